public import EntenteCore

/// What importing one received batch did, as the store reports it to the session.
public struct ImportOutcome: Hashable, Sendable {
    /// Envelopes merged now (including earlier waiting ones whose dependencies arrived).
    public var applied: Int
    /// Envelopes already held.
    public var duplicates: Int
    /// Envelopes kept but not merged yet: they wait for an operation they depend on.
    public var waiting: Int
    /// Operations merged.
    public var operations: Int
    /// Why envelopes were refused (one sentence each); refused envelopes are not imported.
    public var refused: [String]
    /// Set when the peer is to be cut off (it sent more than this node stores for it): the session ends with
    /// this reason once the batch is committed.
    public var cutOff: String?

    /// Creates an outcome.
    public init(applied: Int = 0, duplicates: Int = 0, waiting: Int = 0, operations: Int = 0, refused: [String] = []) {
        self.applied = applied
        self.duplicates = duplicates
        self.waiting = waiting
        self.operations = operations
        self.refused = refused
    }

    /// Adds what a later import of the same batch did (`waiting` and `cutOff` are the later one's).
    public mutating func add(_ later: ImportOutcome) {
        applied += later.applied
        duplicates += later.duplicates
        operations += later.operations
        waiting = later.waiting
        refused += later.refused
        cutOff = later.cutOff
    }
}

/// How far a transfer has got, reported after every batch.
public struct SyncProgress: Hashable, Sendable {
    /// Which way the envelopes move.
    public enum Direction: Hashable, Sendable {
        /// This node sends them.
        case sending
        /// This node receives them.
        case receiving
    }

    /// The partner at the other end.
    public var peer: CompanyID
    /// Which way.
    public var direction: Direction
    /// Envelopes moved so far (sent and acknowledged, or received and imported).
    public var envelopes: Int
    /// Envelopes this session moves in that direction.
    public var total: Int
    /// Envelope bytes moved so far.
    public var bytes: Int
}

/// What one sync session moved, in both directions.
public struct SyncReport: Hashable, Sendable {
    /// The partner at the other end.
    public var peer: CompanyID
    /// The partner's replica that answered.
    public var peerReplica: ReplicaID
    /// True if this node dialled; false if it accepted the connection.
    public var isClient: Bool
    /// The protocol version agreed in the handshake.
    public var version: UInt8
    /// Envelopes sent.
    public var sent = 0
    /// Envelope bytes sent.
    public var sentEnvelopeBytes = 0
    /// Envelopes received.
    public var received = 0
    /// Envelope bytes received.
    public var receivedEnvelopeBytes = 0
    /// Received envelopes merged here (including earlier waiting ones whose dependencies arrived).
    public var applied = 0
    /// Received envelopes this node already held.
    public var duplicates = 0
    /// Envelopes waiting here for an operation they depend on, after the last batch.
    public var waiting = 0
    /// Operations merged here.
    public var operations = 0
    /// Why received envelopes were refused here (first 20 reasons).
    public var refusedReasons: [String] = []
    /// Received envelopes refused here.
    public var refused = 0
    /// Replica revocations the partner sent that were new here (and verified under their company's key).
    public var revocationsLearnt = 0
    /// Replica revocations sent to the partner.
    public var revocationsSent = 0
    /// Sent envelopes the partner merged.
    public var peerApplied = 0
    /// Sent envelopes the partner already held.
    public var peerDuplicates = 0
    /// Sent envelopes the partner refused.
    public var peerRefused = 0
    /// Every byte written to the connection (handshake, framing, encryption included).
    public var bytesSent = 0
    /// Every byte read from the connection.
    public var bytesReceived = 0
    /// Wall-clock time of the session, handshake included.
    public var duration: Duration = .zero

    /// Creates an empty report.
    public init(peer: CompanyID, peerReplica: ReplicaID, isClient: Bool, version: UInt8) {
        self.peer = peer
        self.peerReplica = peerReplica
        self.isClient = isClient
        self.version = version
    }
}
