import { PageHeader } from "../components/states";

export default function DashboardPage() {
  return <PageHeader title="Dashboard" />;
}
