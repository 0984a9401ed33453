import { PageHeader } from "../components/states";

export default function WebhooksPage() {
  return <PageHeader title="Webhooks" />;
}
