import { PageHeader } from "../components/states";

export default function CampaignsPage() {
  return <PageHeader title="Campaigns" />;
}
