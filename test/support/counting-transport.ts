/**
 * The real C client (the library's default transport), with every watch notification it
 * delivers reported first: how tests and bench:herd count wake-ups on the client side.
 */
import type { HandleFactory } from '../../src/election/handle.js';
import { nativeHandle } from '../../src/election/native-handle.js';
import type { Watcher, WatchEvent } from '../../src/election/zk-types.js';

export function countingTransport(onWake: (event: WatchEvent) => void): HandleFactory {
  return (options) => {
    const handle = nativeHandle(options);
    const wrap = (w: Watcher | undefined): Watcher | undefined =>
      w &&
      ((event) => {
        if (event.type !== 'session') onWake(event);
        w(event);
      });
    const exists = handle.exists.bind(handle);
    const getChildren = handle.getChildren.bind(handle);
    const getData = handle.getData.bind(handle);
    handle.exists = (path, w) => exists(path, wrap(w));
    handle.getChildren = (path, w) => getChildren(path, wrap(w));
    handle.getData = (path, w) => getData(path, wrap(w));
    return handle;
  };
}
