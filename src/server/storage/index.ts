/** The durability layer of the ZooKeeper-compatible server: transaction log, snapshots, epochs, data directory. */
export { TxnLog, type LogRecord, type TxnLogOptions, type TxnLogStats } from './txn-log.js';
export { listSnapshots, loadSnapshots, purgeSnapshots, readLatestSnapshot, readSnapshotFile, streamSnapshotFile, verifySnapshotFile, VerifiedSnapshots, writeSnapshot, type SkippedSnapshot, type Snapshot, type SnapshotInfo, type SnapshotReadOptions, type SnapshotSink, type SnapshotWriteOptions } from './snapshot.js';
export { readEpoch, writeEpoch } from './epochs.js';
export { DataDir, type DataDirOptions, type Recovered } from './data-dir.js';
export { CorruptEpochError, CorruptLogError, CorruptSnapshotError, DataDirLockedError, LogPoisonedError, LogRangeError, RecoveryError } from './errors.js';
export { crc32c } from './crc32c.js';
export { TempFiles, type StorageLogger } from './fsutil.js';
export { nodeFileSystem, type FileHandle, type FileStat, type FileSystem, type OpenFlags } from './file-system.js';
