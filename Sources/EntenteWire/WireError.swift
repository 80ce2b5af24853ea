/// Why bytes could not be decoded, verified or opened. One error type for the wire layer.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. Wraps a private enum so that cases can be added without breaking clients.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated, malformed, unsupportedVersion, tooLarge, badSignature, badCertificate
            case notAddressedToUs, decryptionFailed, badObjectID
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The input ended before a complete structure was read.
        public static let truncated = Code(.truncated)
        /// The input is not a well-formed structure (bad magic, tag, length, UTF-8, trailing bytes).
        public static let malformed = Code(.malformed)
        /// A format version this implementation does not read.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A length over the configured limit.
        public static let tooLarge = Code(.tooLarge)
        /// The replica's signature over the envelope does not verify.
        public static let badSignature = Code(.badSignature)
        /// The replica certificate does not chain to the company key.
        public static let badCertificate = Code(.badCertificate)
        /// The envelope's audience does not include the reader.
        public static let notAddressedToUs = Code(.notAddressedToUs)
        /// The payload could not be decrypted or authenticated.
        public static let decryptionFailed = Code(.decryptionFailed)
        /// An object id is not bound to its claimed owner.
        public static let badObjectID = Code(.badObjectID)

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
