/// Why a network sync failed. One error type for the sync protocol and its transports.
public struct SyncError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Wraps a private enum so that cases can be added without breaking clients.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connectionFailed, refused, authenticationFailed, unknownCompany, unsupportedVersion
            case protocolViolation, tamperedFrame, tooLarge, timedOut, closed, peerError, storage, invalidAddress
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No connection could be made, or it broke (refused, unreachable, reset).
        public static let connectionFailed = Code(.connectionFailed)
        /// The peer refused the handshake and said why (for example: this company is not its partner).
        public static let refused = Code(.refused)
        /// The peer could not prove its identity: bad certificate or signature, or another company than the
        /// one dialled.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The peer's company is not a pinned partner.
        public static let unknownCompany = Code(.unknownCompany)
        /// No protocol version both sides speak.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A message was malformed or arrived out of turn.
        public static let protocolViolation = Code(.protocolViolation)
        /// An encrypted frame failed authentication: tampered, reordered, replayed or truncated.
        public static let tamperedFrame = Code(.tamperedFrame)
        /// A frame, batch or summary was over the protocol's limits.
        public static let tooLarge = Code(.tooLarge)
        /// The peer did not complete the handshake, send, or read in time.
        public static let timedOut = Code(.timedOut)
        /// The peer closed the connection before the sync was complete.
        public static let closed = Code(.closed)
        /// The peer reported an error and ended the session.
        public static let peerError = Code(.peerError)
        /// This node's store failed (reading what to send, or importing what arrived).
        public static let storage = Code(.storage)
        /// An address is not `host:port`.
        public static let invalidAddress = Code(.invalidAddress)

        /// A short identifier of the code.
        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence naming the problem.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
