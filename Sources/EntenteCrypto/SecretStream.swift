internal import CSodium

/// A 32-byte key for ``SecretStreamPusher`` and ``SecretStreamPuller``, held in ``SecureBytes``.
///
/// ``KeyExchangeKeyPair`` derives one per direction of a connection.
/// The corresponding C function is `crypto_secretstream_xchacha20poly1305_keygen`.
public struct SecretStreamKey: Sendable {
    /// The length of the key in bytes.
    ///
    /// Matches the C function `crypto_secretstream_xchacha20poly1305_keybytes`.
    public static let byteCount = 32

    /// The key bytes in guarded memory.
    private let secret: SecureBytes

    init(secret: SecureBytes) {
        self.secret = secret
    }

    /// Generates a new random key directly in guarded memory.
    ///
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_secretstream_xchacha20poly1305_keygen`.
    ///
    /// - Returns: A fresh key.
    public static func random() -> SecretStreamKey {
        Sodium.requireReady()
        let secret = SecureBytes(count: crypto_secretstream_xchacha20poly1305_keybytes()) { keyPointer in
            crypto_secretstream_xchacha20poly1305_keygen(keyPointer)
        }
        return SecretStreamKey(secret: secret)
    }

    /// Copies raw key bytes into guarded memory after checking their length.
    ///
    /// The caller's array is not wiped.
    /// The length is compared with the C function `crypto_secretstream_xchacha20poly1305_keybytes`.
    ///
    /// - Parameter bytes: The 32-byte key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` for any other length, or
    ///   ``CryptoError/Code/libraryUnavailable``.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        let keyLength = crypto_secretstream_xchacha20poly1305_keybytes()
        guard bytes.count == keyLength else {
            throw CryptoError(.invalidKey, "secret-stream key must be \(keyLength) bytes, got \(bytes.count)")
        }
        self.init(secret: SecureBytes(copying: bytes))
    }

    /// Compares two keys in constant time.
    ///
    /// The corresponding C function is `sodium_memcmp`.
    ///
    /// - Parameter other: The key to compare with.
    /// - Returns: `true` if both keys hold the same bytes.
    public func constantTimeEquals(_ other: SecretStreamKey) -> Bool {
        secret.constantTimeEquals(other.secret)
    }

    /// Calls `body` with a pointer to the key and its length.
    func withSecretPointer<R>(_ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        secret.withSecretPointer(body)
    }
}

/// The tag a ``SecretStreamPusher`` attaches to a message; authenticated with it.
///
/// The corresponding C functions are `crypto_secretstream_xchacha20poly1305_tag_message`, `_tag_push`,
/// `_tag_rekey` and `_tag_final`.
public struct SecretStreamTag: Hashable, Sendable, CustomStringConvertible {
    /// The tag byte.
    public let rawValue: UInt8

    private init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// An ordinary message (`crypto_secretstream_xchacha20poly1305_tag_message`).
    public static var message: SecretStreamTag {
        SecretStreamTag(rawValue: crypto_secretstream_xchacha20poly1305_tag_message())
    }
    /// The end of a logical chunk of messages (`crypto_secretstream_xchacha20poly1305_tag_push`).
    public static var push: SecretStreamTag {
        SecretStreamTag(rawValue: crypto_secretstream_xchacha20poly1305_tag_push())
    }
    /// Rekey both sides after this message (`crypto_secretstream_xchacha20poly1305_tag_rekey`).
    public static var rekey: SecretStreamTag {
        SecretStreamTag(rawValue: crypto_secretstream_xchacha20poly1305_tag_rekey())
    }
    /// The last message of the stream (`crypto_secretstream_xchacha20poly1305_tag_final`).
    public static var final: SecretStreamTag {
        SecretStreamTag(rawValue: crypto_secretstream_xchacha20poly1305_tag_final())
    }

    /// Wraps a tag byte read from libsodium.
    static func from(_ rawValue: UInt8) -> SecretStreamTag {
        SecretStreamTag(rawValue: rawValue)
    }

    /// The tag's name, for example `final`.
    public var description: String {
        switch self {
        case .message: "message"
        case .push: "push"
        case .rekey: "rekey"
        case .final: "final"
        default: "tag \(rawValue)"
        }
    }
}

/// The mutable `crypto_secretstream_xchacha20poly1305_state` of one stream end, in `sodium_malloc`
/// memory that `sodium_free` wipes on release.
///
/// Not `Sendable`: its memory changes with every message, and only its one owner may touch it.
final class SecretStreamState {
    let pointer: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>

    init() {
        Sodium.requireReady()
        let size = Swift.max(
            crypto_secretstream_xchacha20poly1305_statebytes(),
            MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size
        )
        guard let raw = sodium_malloc(size) else {
            fatalError("EntenteCrypto: sodium_malloc failed (out of memory)")
        }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        pointer = raw.bindMemory(to: crypto_secretstream_xchacha20poly1305_state.self, capacity: 1)
    }

    deinit {
        // sodium_free zeroes the region before unmapping it.
        sodium_free(pointer)
    }
}

@available(*, unavailable)
extension SecretStreamState: Sendable {}

/// The sending end of an XChaCha20-Poly1305 secret stream: a sequence of messages, each authenticated
/// together with its position, so a receiver detects any tampered, truncated, reordered, replayed or
/// dropped message.
///
/// Send ``header`` to the receiver first; it opens a ``SecretStreamPuller`` with it. Each ciphertext is
/// ``overhead`` bytes longer than its message. After a message tagged ``SecretStreamTag/final`` the stream
/// is closed. One pusher belongs to one task: it is not `Sendable`.
/// The corresponding C functions are `crypto_secretstream_xchacha20poly1305_init_push` and
/// `crypto_secretstream_xchacha20poly1305_push`.
///
/// ```swift
/// let key = SecretStreamKey.random()
/// let pusher = try SecretStreamPusher(key: key)
/// let puller = try SecretStreamPuller(key: key, header: pusher.header)
/// let sealed = try pusher.push(Array("hello".utf8))
/// let opened = try puller.pull(sealed) // ("hello", .message)
/// ```
public final class SecretStreamPusher {
    /// The length of a stream header in bytes.
    ///
    /// Matches the C function `crypto_secretstream_xchacha20poly1305_headerbytes`.
    public static let headerByteCount = 24

    /// The bytes each message grows by (a 1-byte encrypted tag and a 16-byte MAC).
    ///
    /// Matches the C function `crypto_secretstream_xchacha20poly1305_abytes`.
    public static let overhead = 17

    /// The header the receiver needs to open the stream (not secret).
    public let header: [UInt8]

    private let state: SecretStreamState
    private var isClosed = false

    /// Starts a stream under `key`, with a fresh random header.
    ///
    /// The corresponding C function is `crypto_secretstream_xchacha20poly1305_init_push`.
    ///
    /// - Parameter key: The stream key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/libraryUnavailable`` if libsodium cannot be
    ///   initialised.
    public init(key: SecretStreamKey) throws(CryptoError) {
        try Sodium.ensureReady()
        let state = SecretStreamState()
        var header = [UInt8](repeating: 0, count: crypto_secretstream_xchacha20poly1305_headerbytes())
        let status = header.withMutableCPointer { headerPointer, _ in
            key.withSecretPointer { keyPointer, _ in
                crypto_secretstream_xchacha20poly1305_init_push(state.pointer, headerPointer, keyPointer)
            }
        }
        guard status == 0 else {
            throw CryptoError(.invalidKey, "crypto_secretstream_xchacha20poly1305_init_push failed")
        }
        self.state = state
        self.header = header
    }

    /// Encrypts and authenticates the next message of the stream.
    ///
    /// The corresponding C function is `crypto_secretstream_xchacha20poly1305_push`.
    ///
    /// - Parameters:
    ///   - message: The plaintext; may be empty.
    ///   - additionalData: Data authenticated with this message but not sent; may be empty.
    ///   - tag: The message's tag; ``SecretStreamTag/final`` closes the stream.
    /// - Returns: The ciphertext, ``overhead`` bytes longer than `message`.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidLength`` if the message is over
    ///   libsodium's maximum or the stream was closed by a final message.
    public func push(
        _ message: [UInt8],
        additionalData: [UInt8] = [],
        tag: SecretStreamTag = .message
    ) throws(CryptoError) -> [UInt8] {
        guard !isClosed else { throw CryptoError(.invalidLength, "the secret stream was closed by a final message") }
        let overhead = crypto_secretstream_xchacha20poly1305_abytes()
        guard UInt64(message.count) <= UInt64(crypto_secretstream_xchacha20poly1305_messagebytes_max()),
            message.count <= Int.max - overhead
        else {
            throw CryptoError(.invalidLength, "message of \(message.count) bytes is too long for a secret stream")
        }
        var ciphertext = [UInt8](repeating: 0, count: message.count + overhead)
        var written: UInt64 = 0
        let status = ciphertext.withMutableCPointer { ciphertextPointer, _ in
            message.withCPointer { messagePointer, messageLength in
                additionalData.withCPointer { adPointer, adLength in
                    crypto_secretstream_xchacha20poly1305_push(
                        state.pointer,
                        ciphertextPointer,
                        &written,
                        messagePointer,
                        UInt64(messageLength),
                        adPointer,
                        UInt64(adLength),
                        tag.rawValue
                    )
                }
            }
        }
        guard status == 0, written == UInt64(ciphertext.count) else {
            throw CryptoError(.invalidLength, "crypto_secretstream_xchacha20poly1305_push failed")
        }
        if tag == .final { isClosed = true }
        return ciphertext
    }
}

@available(*, unavailable)
extension SecretStreamPusher: Sendable {}

/// A message opened by ``SecretStreamPuller``.
public struct SecretStreamMessage: Hashable, Sendable {
    /// The plaintext.
    public let bytes: [UInt8]
    /// The tag the sender attached.
    public let tag: SecretStreamTag
}

/// The receiving end of an XChaCha20-Poly1305 secret stream (see ``SecretStreamPusher``).
///
/// Messages must be pulled in the order they were pushed, each exactly once. The first failure (a tampered,
/// truncated, reordered, replayed or foreign ciphertext) breaks the puller for good: every later call
/// throws too, so a caller cannot skip past a bad message. After a ``SecretStreamTag/final`` message,
/// ``isFinished`` is true and further messages are refused. One puller belongs to one task.
/// The corresponding C functions are `crypto_secretstream_xchacha20poly1305_init_pull` and
/// `crypto_secretstream_xchacha20poly1305_pull`.
public final class SecretStreamPuller {
    private let state: SecretStreamState
    private var isBroken = false

    /// True once a message tagged ``SecretStreamTag/final`` was opened: the sender will send nothing more,
    /// and a stream that ends before this happened was truncated.
    public private(set) var isFinished = false

    /// Opens a stream from its header.
    ///
    /// The corresponding C function is `crypto_secretstream_xchacha20poly1305_init_pull`.
    ///
    /// - Parameters:
    ///   - key: The stream key.
    ///   - header: The sender's ``SecretStreamPusher/header``.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidLength`` if the header is not 24 bytes,
    ///   ``CryptoError/Code/decryptionFailed`` if libsodium refuses it, or
    ///   ``CryptoError/Code/libraryUnavailable``.
    public init(key: SecretStreamKey, header: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        let headerLength = crypto_secretstream_xchacha20poly1305_headerbytes()
        guard header.count == headerLength else {
            throw CryptoError(.invalidLength, "secret-stream header must be \(headerLength) bytes, got \(header.count)")
        }
        let state = SecretStreamState()
        let status = header.withCPointer { headerPointer, _ in
            key.withSecretPointer { keyPointer, _ in
                crypto_secretstream_xchacha20poly1305_init_pull(state.pointer, headerPointer, keyPointer)
            }
        }
        guard status == 0 else { throw CryptoError(.decryptionFailed, "the secret-stream header was refused") }
        self.state = state
    }

    /// Verifies and decrypts the next message of the stream.
    ///
    /// Never traps on untrusted input.
    /// The corresponding C function is `crypto_secretstream_xchacha20poly1305_pull`.
    ///
    /// - Parameters:
    ///   - ciphertext: The next ciphertext from the sender.
    ///   - additionalData: The additional data the sender authenticated with it.
    /// - Returns: The plaintext and its tag.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/decryptionFailed`` if the ciphertext is not
    ///   the next authentic message of this stream (or the puller is already broken or finished), or
    ///   ``CryptoError/Code/invalidLength`` if it is shorter than ``SecretStreamPusher/overhead``.
    public func pull(_ ciphertext: [UInt8], additionalData: [UInt8] = []) throws(CryptoError) -> SecretStreamMessage {
        guard !isBroken else {
            throw CryptoError(.decryptionFailed, "the secret stream already failed; no further message is accepted")
        }
        guard !isFinished else {
            isBroken = true
            throw CryptoError(.decryptionFailed, "a message arrived after the final message of the secret stream")
        }
        let overhead = crypto_secretstream_xchacha20poly1305_abytes()
        guard ciphertext.count >= overhead else {
            isBroken = true
            throw CryptoError(
                .invalidLength,
                "secret-stream ciphertext must be at least \(overhead) bytes, got \(ciphertext.count)"
            )
        }
        var message = [UInt8](repeating: 0, count: ciphertext.count - overhead)
        var written: UInt64 = 0
        var tag: UInt8 = 0
        let status = message.withMutableCPointer { messagePointer, _ in
            ciphertext.withCPointer { ciphertextPointer, ciphertextLength in
                additionalData.withCPointer { adPointer, adLength in
                    crypto_secretstream_xchacha20poly1305_pull(
                        state.pointer,
                        messagePointer,
                        &written,
                        &tag,
                        ciphertextPointer,
                        UInt64(ciphertextLength),
                        adPointer,
                        UInt64(adLength)
                    )
                }
            }
        }
        guard status == 0, written == UInt64(message.count) else {
            isBroken = true
            throw CryptoError(
                .decryptionFailed,
                "secret-stream message failed authentication (tampered, reordered, replayed or foreign)"
            )
        }
        let opened = SecretStreamTag.from(tag)
        if opened == .final { isFinished = true }
        return SecretStreamMessage(bytes: message, tag: opened)
    }
}

@available(*, unavailable)
extension SecretStreamPuller: Sendable {}
