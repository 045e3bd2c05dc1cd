/** stopped: the machine is done (node shutdown); it answers nothing and starts nothing. */
import { StateHandler } from './state';

export class StoppedState extends StateHandler {
  readonly name = 'stopped' as const;
  override stop(): Promise<void> { return Promise.resolve(); }
}
