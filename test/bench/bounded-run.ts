// A benchmark's safety net: whatever it started is undone, in reverse order and at most once, on success,
// failure, Ctrl-C, SIGTERM or when its time budget runs out, so no run can leave servers behind or go on.
import { stopAll } from '@registry-ldap-auth/stack/process';

export interface BoundedRun {
  /** Registers a step that undoes something just started. */
  readonly undo: (step: () => Promise<void>) => void;
  /** Undoes everything registered (and anything stack/process.ts started); the same promise every call. */
  readonly cleanup: () => Promise<void>;
}

export function boundedRun(budgetMs: number, budgetText: string): BoundedRun {
  const steps: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const step of steps.splice(0).reverse()) {
        await step().catch((error: unknown) => {
          console.error(`cleanup: ${String(error)}`);
        });
      }
      await stopAll(); // anything started but not yet registered
    })();
    return cleaning;
  };
  const abort = (reason: string, code: number): void => {
    console.error(`\n${reason}: stopping everything`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => {
    abort('SIGINT', 130);
  });
  process.once('SIGTERM', () => {
    abort('SIGTERM', 143);
  });
  setTimeout(() => {
    abort(`time budget of ${budgetText} exceeded`, 1);
  }, budgetMs).unref();
  return {
    undo: (step) => {
      steps.push(step);
    },
    cleanup,
  };
}
