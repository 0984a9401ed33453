// One numbered step of the campaign page: a titled section that says whether
// it is done, and why it cannot start yet when an earlier step is missing.
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
  children,
}: {
  number: number;
  title: string;
  description?: ReactNode;
  status: StepStatus;
  blockedReason?: string;
  testId?: string;
  children?: ReactNode;
}) {
  const headingId = `campaign-step-${number}`;
  const badge = statusBadges[status];
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
        {badge ? <span className={classes.badge}>{badge}</span> : null}
      </div>
      {status === "blocked" ? <p className={classes.blocked}>{blockedReason}</p> : children}
    </section>
  );
}
