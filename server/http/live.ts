// Live updates to browsers over one WebSocket each (/ws/events): provisioning progress,
// environment changes and check results for a learner; "the class changed" for instructors.
// Browsers only listen here; anything they send closes the socket.
import type { WebSocket } from 'ws';
import type { LiveEvent } from '../../shared/api.ts';

export class LiveUpdates {
  private readonly learners = new Map<string, Set<WebSocket>>();
  private readonly instructors = new Set<WebSocket>();

  addLearner(learnerId: string, ws: WebSocket): void {
    let set = this.learners.get(learnerId);
    if (!set) this.learners.set(learnerId, (set = new Set()));
    set.add(ws);
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0 && this.learners.get(learnerId) === set) this.learners.delete(learnerId);
    });
  }

  addInstructor(ws: WebSocket): void {
    this.instructors.add(ws);
    ws.on('close', () => this.instructors.delete(ws));
  }

  /** Tell one learner's browsers; instructors hear that the class changed. */
  toLearner(learnerId: string, event: LiveEvent): void {
    const text = JSON.stringify(event);
    for (const ws of this.learners.get(learnerId) ?? []) if (ws.readyState === ws.OPEN) ws.send(text);
    if (event.type === 'environment' || event.type === 'step-result') this.classChanged();
  }

  classChanged(): void {
    const text = JSON.stringify({ type: 'class-changed' } satisfies LiveEvent);
    for (const ws of this.instructors) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  get connections(): number {
    let n = this.instructors.size;
    for (const s of this.learners.values()) n += s.size;
    return n;
  }
}
