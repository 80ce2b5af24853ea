/// The single error type thrown by every fallible operation in `EntenteCrypto`.
///
/// Callers branch on ``code``; ``message`` is human-readable detail for logs and never
/// contains secret material.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a ``CryptoError``.
    ///
    /// `Code` wraps a private enumeration so that new categories can be added without
    /// breaking source compatibility: compare against the static members instead of
    /// switching exhaustively.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case libraryUnavailable
            case invalidKey
            case invalidLength
            case verificationFailed
            case decryptionFailed
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// libsodium could not be initialised: `sodium_init` returned a negative value.
        public static let libraryUnavailable = Code(.libraryUnavailable)

        /// A key had the wrong length or was otherwise malformed.
        public static let invalidKey = Code(.invalidKey)

        /// A nonce, ciphertext or other input had the wrong length.
        public static let invalidLength = Code(.invalidLength)

        /// A signature did not verify.
        public static let verificationFailed = Code(.verificationFailed)

        /// Authenticated decryption failed: the ciphertext was tampered with, truncated,
        /// or opened with the wrong key, nonce or associated data.
        public static let decryptionFailed = Code(.decryptionFailed)

        /// The code's name, for example `decryptionFailed`.
        public var description: String {
            switch kind {
            case .libraryUnavailable: "libraryUnavailable"
            case .invalidKey: "invalidKey"
            case .invalidLength: "invalidLength"
            case .verificationFailed: "verificationFailed"
            case .decryptionFailed: "decryptionFailed"
            }
        }
    }

    /// The category of the failure.
    public let code: Code

    /// Human-readable detail about the failure. Never contains secret material.
    public let message: String

    /// Creates an error; only this module throws `CryptoError`.
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The code followed by the message, for example `invalidLength: nonce must be 24 bytes, got 12`.
    public var description: String {
        "\(code): \(message)"
    }
}
