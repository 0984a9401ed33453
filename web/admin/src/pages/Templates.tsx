import { PageHeader } from "../components/states";

export default function TemplatesPage() {
  return <PageHeader title="Templates" />;
}
