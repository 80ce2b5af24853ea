/// Why an operation is refused for good. Every replica refuses the same operation the same way.
public struct AuthorityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of refusal. Wraps a private enum so that cases can be added without breaking clients.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case foreignNamespace, notOwner, conflictingCreate, invalidName, invalidAudience
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A company wrote another company's namespace.
        public static let foreignNamespace = Code(.foreignNamespace)
        /// A non-owner tried an owner-only operation (membership).
        public static let notOwner = Code(.notOwner)
        /// A second create for an existing object disagrees with the first.
        public static let conflictingCreate = Code(.conflictingCreate)
        /// A field or type name is empty, too long or has control characters.
        public static let invalidName = Code(.invalidName)
        /// A visibility names companies that are not participants.
        public static let invalidAudience = Code(.invalidAudience)

        /// A short identifier of the code.
        public var description: String { "\(base)" }
    }

    /// The kind of refusal.
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

/// The outcome of checking an operation against an object's current state.
public enum Decision: Hashable, Sendable {
    /// The operation may be applied now.
    case apply
    /// The operation depends on something not yet received (the object's creation, or the writer's
    /// membership); keep it and retry when more arrives. Delivery order never changes the final outcome.
    case wait(String)
    /// The operation is refused for good.
    case reject(AuthorityError)
}
