// Process entry of the bundle / single executable.
import { main } from './main.js';

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`rampart: ${(err as Error).message}\n`);
  process.exit(1);
});
