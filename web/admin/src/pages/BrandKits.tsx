import { PageHeader } from "../components/states";

export default function BrandKitsPage() {
  return <PageHeader title="Brand kits" />;
}
