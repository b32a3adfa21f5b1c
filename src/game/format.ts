/** One readable line (or a few, for help) per console result. JSON output needs no formatting. */
import type { Result } from './console.js';

export function formatResult(r: Result): string {
  if (!r.ok) return `${r.error === 'bad-input' ? 'bad input' : r.error === 'round-in-progress' || r.error === 'no-target' ? 'refused' : 'error'}: ${r.message}`;
  switch (r.cmd) {
    case 'help':
      return r.commands.map(([usage, what]) => `  ${usage.padEnd(36)} ${what}`).join('\n');
    case 'quit':
      return 'bye';
    case 'connect':
      return `connected to ${r.connect} (session 0x${r.session})`;
    case 'read': {
      const head = r.target === null ? `no target (round ${r.round} ${r.round === 0 ? 'not started' : 'over'})` : `target ${r.target} set by ${r.setBy}, round ${r.round}, ${r.best === null ? 'no guesses yet' : `distance to beat ${r.best}`}`;
      const winner = r.lastWinner ? `; last winner ${r.lastWinner.player} with ${r.lastWinner.value} in round ${r.lastWinner.round}` : '';
      return `${r.path}: ${head}; ${r.moves} moves (last ${r.kept} kept), version ${r.version}${winner}`;
    }
    case 'write':
    case 'guess': {
      const tail = `(move ${r.seq}, version ${r.version})`;
      switch (r.outcome) {
        case 'set':
          return `target set to ${r.value}: round ${r.round} starts ${tail}`;
        case 'won':
          return `won: ${r.value} hits the target; round ${r.round} is over, write <0-100> starts the next ${tail}`;
        case 'closer':
          return `closer: ${r.value} is ${r.distance} away, the closest so far; the target is now ${r.target} ${tail}`;
        case 'farther':
          return `farther: ${r.value} is ${r.distance} away, not closer than ${r.best}; the target stays ${r.target} ${tail}`;
      }
    }
  }
  return JSON.stringify(r);
}
