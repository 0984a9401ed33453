// One numbered step of the campaign page: a titled section that says whether
// it is done, and why it cannot start yet when an earlier step is missing.
// A done step can fold to one line that sums it up.
import { Button } from "@mantine/core";
import type { ReactNode } from "react";

import classes from "./CampaignStep.module.css";

export type StepStatus = "done" | "todo" | "blocked" | "attention";

const statusBadges: Record<StepStatus, string | null> = {
  done: "Done",
  todo: null,
  blocked: null,
  attention: "Needs attention",
};

export function CampaignStep({
  number,
  title,
  description,
  status,
  blockedReason,
  testId,
  folded = false,
  summary,
  onToggle,
  children,
}: {
  number: number;
  title: string;
  description?: ReactNode;
  status: StepStatus;
  blockedReason?: string;
  testId?: string;
  // Whether the step shows SUMMARY in place of its content.
  folded?: boolean;
  summary?: ReactNode;
  // Folds or opens the step. Without it, the step has no such button.
  onToggle?: () => void;
  children?: ReactNode;
}) {
  const headingId = `campaign-step-${number}`;
  const bodyId = `campaign-step-${number}-body`;
  const badge = statusBadges[status];
  let body: ReactNode = children;
  if (status === "blocked") {
    body = <p className={classes.blocked}>{blockedReason}</p>;
  } else if (folded) {
    body = <p className={classes.summary}>{summary}</p>;
  }
  return (
    <section
      className={classes.step}
      data-status={status}
      aria-labelledby={headingId}
      data-testid={testId}
    >
      <div className={classes.header}>
        <div className={classes.heading}>
          <span className={classes.number} aria-hidden>
            {number}
          </span>
          <div>
            <h2 className={classes.title} id={headingId}>
              {title}
            </h2>
            {description ? <p className={classes.description}>{description}</p> : null}
          </div>
        </div>
        <div className={classes.aside}>
          {badge ? <span className={classes.badge}>{badge}</span> : null}
          {onToggle ? (
            <Button
              size="compact-sm"
              variant="subtle"
              aria-expanded={!folded}
              aria-controls={bodyId}
              aria-label={`${folded ? "Show" : "Hide"} the step ${title}`}
              onClick={onToggle}
              data-testid={`${headingId}-toggle`}
            >
              {folded ? "Show" : "Hide"}
            </Button>
          ) : null}
        </div>
      </div>
      <div id={bodyId}>{body}</div>
    </section>
  );
}
