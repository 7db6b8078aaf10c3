// npm run compose:down: removes what compose:up started (containers, networks, volumes) and fails if
// anything of the project is left.
import { composeDown, DEFAULT_PROJECT } from './compose.ts';

const left = await composeDown();
if (left.length > 0) {
  console.error(`compose:down: still there: ${left.join(', ')}`);
  process.exit(1);
}
console.log(`compose:down: nothing of ${DEFAULT_PROJECT} is left`);
