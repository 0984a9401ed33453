// Work that waits for the browser to draw first.

// Runs CALLBACK once the browser has drawn its next frame: a
// requestAnimationFrame callback runs just before the frame, and a timer set
// there runs after it. Returns a function that cancels the call.
export function afterNextFrame(callback: () => void): () => void {
  let timer: number | undefined;
  const frame = window.requestAnimationFrame(() => {
    timer = window.setTimeout(callback, 0);
  });
  return () => {
    window.cancelAnimationFrame(frame);
    window.clearTimeout(timer);
  };
}
