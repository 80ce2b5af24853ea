/// Why the store could not do something. Wraps SQLite errors so that GRDB types never leak.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case cannotOpen, sqlite, corrupt, equivocation }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The database file could not be opened or migrated.
        public static let cannotOpen = Code(.cannotOpen)
        /// SQLite reported an error.
        public static let sqlite = Code(.sqlite)
        /// Stored bytes do not decode.
        public static let corrupt = Code(.corrupt)
        /// One origin replica sent two different envelopes with the same sequence number for one recipient.
        public static let equivocation = Code(.equivocation)
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
