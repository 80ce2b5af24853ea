@_exported public import struct EntenteSync.SyncLimits
@_exported public import struct EntenteSync.SyncProgress
// The network-sync types that appear in `Node`'s and `SyncServer`'s public API, re-exported so that
// `import Entente` is enough.
@_exported public import struct EntenteSync.SyncReport
