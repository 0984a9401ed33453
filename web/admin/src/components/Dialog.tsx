// A Mantine Modal that mounts when it first opens. A closed Modal still
// mounts its portal node, focus trap and scroll lock, and renders again once
// the portal exists. The campaign page has four, and paid for them on every
// visit. At the first opening the Modal mounts closed and opens one render
// later, so that it plays the same transition as every later opening.
import { Modal } from "@mantine/core";
import type { ModalProps } from "@mantine/core";
import { useEffect, useState } from "react";

export function Dialog(props: ModalProps) {
  const [mounted, setMounted] = useState(props.opened);
  const [ready, setReady] = useState(props.opened);
  if (props.opened && !mounted) {
    setMounted(true);
  }
  useEffect(() => {
    if (mounted && !ready) {
      setReady(true);
    }
  }, [mounted, ready]);
  if (!mounted) {
    return null;
  }
  return <Modal {...props} opened={props.opened && ready} />;
}
