// The network-sync types that appear in `Node`'s and `SyncServer`'s public API, re-exported so that
// `import Entente` is enough.
@_exported public import struct EntenteSync.SyncReport
@_exported public import struct EntenteSync.SyncProgress
@_exported public import struct EntenteSync.SyncLimits
