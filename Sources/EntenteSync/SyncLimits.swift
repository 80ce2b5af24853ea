import EntenteWire

/// The explicit bounds of one sync session (`Specs/sync.md`, "Limits"). Every one is enforced on what the
/// peer sends before anything is allocated for it, so no peer can make a node hold more than about one
/// frame per connection in memory. Timeouts count only time this process was running: if it was stalled
/// (an overloaded machine), the stall is not blamed on the peer.
public struct SyncLimits: Hashable, Sendable {
    /// Largest frame body before the handshake completes (hellos and refusals are small).
    public var maxHandshakeFrame: Int = 4096
    /// Largest encrypted frame body after the handshake: one maximum-size envelope plus room for the batch
    /// header and the stream's 17 bytes.
    public var maxFrame: Int = Envelope.maxBytes + 64 * 1024
    /// Most envelopes in one batch.
    public var maxEnvelopesPerBatch: Int = 256
    /// Most envelope bytes in one batch; a single larger envelope travels alone.
    public var maxBatchBytes: Int = 8 << 20
    /// Most envelopes one peer may send in one sync (it announces its total first: over the limit, it is cut
    /// off before anything is read). Each partner's sessions are bounded separately.
    public var maxEnvelopesPerSync: Int = 2_000_000
    /// Most envelope bytes one peer may send in one sync.
    public var maxBytesPerSync: Int = 4 << 30
    /// Most batches sent before the peer acknowledges the oldest one.
    public var window: Int = 2
    /// Most replicas in a summary.
    public var maxSummaryEntries: Int = 100_000
    /// The whole handshake must complete within this time, or the connection is cut.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Waiting for the peer's next frame longer than this cuts the connection.
    public var idleTimeout: Duration = .seconds(60)
    /// A peer that takes none of what is written to it (a 64 KiB piece over TCP) for this long is cut off:
    /// a peer that stopped reading.
    public var writeTimeout: Duration = .seconds(30)

    /// The default limits.
    public init() {}
}
