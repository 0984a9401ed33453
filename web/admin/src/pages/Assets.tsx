import { PageHeader } from "../components/states";

export default function AssetsPage() {
  return <PageHeader title="Assets" />;
}
