// The app's frame: sign-in when nobody is signed in, else the navigation and
// the page of the current address. Pages load on first visit, so that the
// first screen downloads only what it shows.
import { AppShell, Burger, Button, Group, NavLink, ScrollArea, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Suspense, lazy, memo, useEffect } from "react";
import type { ComponentType, LazyExoticComponent, MouseEvent } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";

import { canAct } from "./api/session";
import type { Me, Role } from "./api/session";
import { NavigationIndicator, followWhenLoaded } from "./components/navigation";
import { Loading } from "./components/states";
import { SignInPage } from "./pages/SignIn";
import { useSession } from "./session";
import classes from "./App.module.css";

// A page's chunk: the page, and the GET paths it requests as it opens at its
// section's address, which a click on its link requests before opening it.
interface PageModule {
  default: ComponentType;
  preload?: () => string[];
}

interface Section {
  path: string;
  label: string;
  load: () => Promise<PageModule>;
  page: LazyExoticComponent<ComponentType>;
  role?: Role; // the least tenant role that shows it
  platformAdmin?: boolean;
  nested?: boolean; // also serves PATH/:id
}

function section(
  fields: Omit<Section, "load" | "page">,
  load: () => Promise<PageModule>,
): Section {
  return { ...fields, load, page: lazy(load) };
}

const sections: Section[] = [
  section({ path: "/", label: "Dashboard", role: "viewer" }, () => import("./pages/Dashboard")),
  section({ path: "/campaigns", label: "Campaigns", role: "viewer", nested: true }, () => import("./pages/Campaigns")),
  section({ path: "/templates", label: "Templates", role: "viewer", nested: true }, () => import("./pages/Templates")),
  section({ path: "/brand-kits", label: "Brand kits", role: "viewer", nested: true }, () => import("./pages/BrandKits")),
  section({ path: "/assets", label: "Assets", role: "viewer" }, () => import("./pages/Assets")),
  section({ path: "/usage", label: "Usage", role: "viewer" }, () => import("./pages/Usage")),
  section({ path: "/team", label: "Team", role: "owner" }, () => import("./pages/Team")),
  section({ path: "/api-keys", label: "API keys", role: "owner" }, () => import("./pages/ApiKeys")),
  section({ path: "/webhooks", label: "Webhooks", role: "owner" }, () => import("./pages/Webhooks")),
  section({ path: "/admin/tenants", label: "Tenants", platformAdmin: true, nested: true }, () => import("./pages/AdminTenants")),
];

function visible(me: Me, section: Section): boolean {
  if (section.platformAdmin) {
    return me.platform_admin;
  }
  return me.tenant !== null && canAct(me, section.role ?? "viewer");
}

// Downloads the code of every page that ME can open, one page per idle
// period, so that a first visit to a page does not wait for its chunk. The
// page being shown loads first through its own lazy import.
function usePrefetchPages(me: Me | null) {
  useEffect(() => {
    if (me === null) {
      return;
    }
    const pending = sections.filter((item) => visible(me, item));
    let handle: number | undefined;
    const next = () => {
      const item = pending.shift();
      if (!item) {
        return;
      }
      // A chunk that fails here loads again, with its error shown, on a visit.
      item.load().catch(() => undefined);
      handle = requestIdle(next);
    };
    handle = requestIdle(next);
    return () => cancelIdle(handle);
  }, [me]);
}

// requestIdleCallback where the browser has it (Safari lacks it), else a timer.
function requestIdle(callback: () => void): number {
  return typeof window.requestIdleCallback === "function"
    ? window.requestIdleCallback(callback, { timeout: 2000 })
    : window.setTimeout(callback, 200);
}

function cancelIdle(handle: number | undefined) {
  if (handle === undefined) {
    return;
  }
  if (typeof window.cancelIdleCallback === "function") {
    window.cancelIdleCallback(handle);
  } else {
    window.clearTimeout(handle);
  }
}

function isCurrent(location: string, section: Section): boolean {
  if (section.path === "/") {
    return location === "/";
  }
  return location === section.path || location.startsWith(section.path + "/");
}

function Navigation({ me, onNavigate }: { me: Me; onNavigate: () => void }) {
  const [location] = useLocation();
  return (
    <Stack gap={2}>
      {sections
        .filter((section) => visible(me, section))
        .map((section) => (
          <NavItem
            key={section.path}
            section={section}
            current={isCurrent(location, section)}
            onNavigate={onNavigate}
          />
        ))}
    </Stack>
  );
}

// Most clicks change the location within one section, such as from the
// campaigns to a campaign, so a link re-renders only when it becomes or
// stops being the current one.
const NavItem = memo(function NavItem({
  section,
  current,
  onNavigate,
}: {
  section: Section;
  current: boolean;
  onNavigate: () => void;
}) {
  return (
    <NavLink
      component={Link}
      href={section.path}
      label={section.label}
      active={current}
      aria-current={current ? "page" : undefined}
      onClick={(event: MouseEvent) => {
        event.preventDefault();
        onNavigate();
        followWhenLoaded(
          section.path,
          section.load().then((page) => page.preload?.() ?? []),
        );
      }}
    />
  );
});

function Pages({ me }: { me: Me }) {
  const allowed = sections.filter((section) => visible(me, section));
  const home = allowed[0]?.path ?? "/";
  return (
    <Suspense fallback={<Loading />}>
      <Switch>
        {allowed.flatMap((section) => {
          const routes = [<Route key={section.path} path={section.path} component={section.page} />];
          if (section.nested) {
            routes.push(
              <Route key={section.path + "/:id"} path={section.path + "/:id"} component={section.page} />,
            );
          }
          return routes;
        })}
        <Route path="/sign-in">
          <Redirect to={home} replace />
        </Route>
        <Route>
          {allowed.some((section) => section.path === "/") ? (
            <NotFound />
          ) : (
            <Redirect to={home} replace />
          )}
        </Route>
      </Switch>
    </Suspense>
  );
}

function NotFound() {
  return (
    <Stack gap="sm">
      <Text fw={600}>This page does not exist.</Text>
      <Text c="dimmed" size="sm">
        The address may be mistyped, or the page may belong to another role.{" "}
        <Link href="/">Go to the dashboard</Link>.
      </Text>
    </Stack>
  );
}

export function App() {
  const { me, loading, signOut } = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const [location, navigate] = useLocation();
  usePrefetchPages(me);

  useEffect(() => {
    if (!loading && me === null && location !== "/sign-in") {
      navigate("/sign-in", { replace: true });
    }
  }, [loading, me, location, navigate]);

  if (loading) {
    return <Loading label="Starting" />;
  }
  if (me === null) {
    return <SignInPage />;
  }

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <NavigationIndicator />
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Text fw={700} size="lg">
              smmhub
            </Text>
            {me.tenant ? (
              <Text c="dimmed" size="sm" visibleFrom="xs" data-testid="tenant-name">
                {me.tenant.name}
              </Text>
            ) : null}
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dimmed" visibleFrom="sm">
              {me.user?.email ?? me.actor}
            </Text>
            <Button variant="subtle" size="xs" onClick={() => void signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar
        p="xs"
        aria-label="Main"
        className={classes.navbar}
        mod={{ collapsed: !opened }}
      >
        <ScrollArea>
          <Navigation me={me} onNavigate={close} />
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Pages me={me} />
      </AppShell.Main>
    </AppShell>
  );
}
