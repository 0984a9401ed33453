// Following a link once the next page's data has arrived. A page that
// requests its data as it mounts renders once per response, and each render
// of a full page is a long task. Requested at the click, the responses are
// there when the page mounts, and it renders complete in one pass. The current page
// stays on screen meanwhile, for at most navigationWaitMs. After that the next
// page opens and shows its loading states for what has not arrived.
import { useSyncExternalStore } from "react";
import { navigate } from "wouter/use-browser-location";

import { prefetchAll } from "./resource";
import classes from "./navigation.module.css";

export const navigationWaitMs = 300;

// A wait shorter than this shows nothing, so that a quick page does not
// flash the indicator.
const indicatorDelayMs = 100;

let latest = 0;
let waiting = false;
const listeners = new Set<() => void>();

function setWaiting(value: boolean): void {
  if (waiting !== value) {
    waiting = value;
    listeners.forEach((listener) => listener());
  }
}

// Opens HREF once the GET responses of PATHS have arrived (PATHS may itself
// be a promise, such as a page's chunk that names them). A later call
// supersedes an earlier one that is still waiting, so the last click wins.
export function followWhenLoaded(href: string, paths: string[] | Promise<string[]>): void {
  const call = ++latest;
  const indicator = setTimeout(() => {
    if (call === latest) {
      setWaiting(true);
    }
  }, indicatorDelayMs);
  const loaded = Promise.resolve(paths).then(
    (list) => prefetchAll(list, navigationWaitMs),
    // A page whose code failed to load opens anyway and reports it.
    () => undefined,
  );
  void loaded.then(() => {
    clearTimeout(indicator);
    if (call === latest) {
      setWaiting(false);
      navigate(href);
    }
  });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// A thin bar along the top of the window while a followed link waits for its
// page's data. It re-renders alone, not the page under it.
export function NavigationIndicator() {
  const visible = useSyncExternalStore(subscribe, () => waiting);
  return visible ? (
    <div className={classes.bar} role="progressbar" aria-label="Opening the page" />
  ) : null;
}
