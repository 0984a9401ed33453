import { PageHeader } from "../components/states";

export default function ApiKeysPage() {
  return <PageHeader title="API keys" />;
}
