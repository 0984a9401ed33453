import { PageHeader } from "../components/states";

export default function UsagePage() {
  return <PageHeader title="Usage" />;
}
