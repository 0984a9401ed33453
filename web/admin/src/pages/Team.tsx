import { PageHeader } from "../components/states";

export default function TeamPage() {
  return <PageHeader title="Team" />;
}
