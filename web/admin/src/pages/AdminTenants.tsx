import { PageHeader } from "../components/states";

export default function AdminTenantsPage() {
  return <PageHeader title="Tenants" />;
}
