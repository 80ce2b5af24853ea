/// The error type of the `Entente` façade: what went wrong, in a sentence a user can act on.
public struct EntenteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Wraps a private enum so that cases can be added without breaking clients.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidArgument, notFound, alreadyExists, unknownCompany, rejected, badInput, storage, keys, ambiguous,
                network, quotaExceeded
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// An argument is out of range or malformed.
        public static let invalidArgument = Code(.invalidArgument)
        /// An object, partner or node directory does not exist.
        public static let notFound = Code(.notFound)
        /// The thing to create exists already.
        public static let alreadyExists = Code(.alreadyExists)
        /// Input comes from, or names, a company that is not a pinned partner.
        public static let unknownCompany = Code(.unknownCompany)
        /// An operation breaks the authority rules, is misaddressed, or carries an impossible timestamp.
        public static let rejected = Code(.rejected)
        /// Input bytes are malformed, truncated, tampered with, or of an unsupported version.
        public static let badInput = Code(.badInput)
        /// The database failed.
        public static let storage = Code(.storage)
        /// Key files are missing or unreadable.
        public static let keys = Code(.keys)
        /// A name or id prefix matches more than one thing.
        public static let ambiguous = Code(.ambiguous)
        /// Nothing answered at the partner's address, or the connection broke or timed out (try again later).
        public static let network = Code(.network)
        /// A partner's envelopes would take more room on this node than its storage quota allows.
        public static let quotaExceeded = Code(.quotaExceeded)
        /// A short identifier of the code.
        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence naming the problem.
    public let message: String
    /// The lower-level error, if any.
    public let cause: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause.map { "\($0)" }
    }

    /// The message.
    public var description: String { message }
}
