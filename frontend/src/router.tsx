// Every page has a URL: /o/<organization id or "personal">/<section>[/<campaign>/<tab>].
import { createRootRoute, createRoute, createRouter, Navigate, Outlet } from "@tanstack/react-router";
import { Home, Layout } from "./Layout";
import { AccountsPage } from "./pages/AccountsPage";
import { CampaignsPage, validateCampaignSearch } from "./pages/Campaigns";
import { CampaignPage } from "./pages/campaign/CampaignPage";
import { ContactsPage } from "./pages/ContactsPage";
import { Login } from "./pages/Login";
import { OrganizationPage } from "./pages/OrganizationPage";
import { WebhooksPage } from "./pages/WebhooksPage";
import { Empty } from "./components/States";
import { DoNotContactPage } from "./pages/DoNotContactPage";
import { ReplyRulesPage } from "./pages/ReplyRulesPage";

const root = createRootRoute({
  component: Outlet,
  notFoundComponent: () => <Empty>There is no page at this address.</Empty>,
});
const login = createRoute({ getParentRoute: () => root, path: "/login", component: Login });
const home = createRoute({ getParentRoute: () => root, path: "/", component: Home });
const space = createRoute({ getParentRoute: () => root, path: "/o/$org", component: Layout });
const spaceIndex = createRoute({
  getParentRoute: () => space,
  path: "/",
  component: function SpaceIndex() {
    const { org } = space.useParams();
    return <Navigate to="/o/$org/campaigns" params={{ org }} />;
  },
});
const campaigns = createRoute({
  getParentRoute: () => space,
  path: "/campaigns",
  component: CampaignsPage,
  validateSearch: validateCampaignSearch,
});
const campaignIndex = createRoute({
  getParentRoute: () => space,
  path: "/campaigns/$id",
  component: function CampaignIndex() {
    const { org, id } = campaignIndex.useParams();
    return <Navigate to="/o/$org/campaigns/$id/$tab" params={{ org, id, tab: "overview" }} />;
  },
});
const campaign = createRoute({ getParentRoute: () => space, path: "/campaigns/$id/$tab", component: CampaignPage });
const contacts = createRoute({ getParentRoute: () => space, path: "/contacts", component: ContactsPage });
const accounts = createRoute({ getParentRoute: () => space, path: "/accounts", component: AccountsPage });
const webhooks = createRoute({ getParentRoute: () => space, path: "/webhooks", component: WebhooksPage });
const organization = createRoute({ getParentRoute: () => space, path: "/organization", component: OrganizationPage });
const doNotContact = createRoute({ getParentRoute: () => space, path: "/do-not-contact", component: DoNotContactPage });
const replyRules = createRoute({ getParentRoute: () => space, path: "/reply-rules", component: ReplyRulesPage });

const routeTree = root.addChildren([
  login,
  home,
  space.addChildren([spaceIndex, campaigns, campaignIndex, campaign, contacts, accounts, webhooks, organization, doNotContact, replyRules]),
]);

export const router = createRouter({ routeTree });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
