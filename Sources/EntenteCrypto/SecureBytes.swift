internal import CSodium

/// Secret bytes held in libsodium's guarded memory, wiped and freed when released.
///
/// The bytes live in memory from `sodium_malloc`: surrounded by guard pages, locked
/// against swapping where the system allows it, and made read-only once initialised
/// with `sodium_mprotect_readonly`. `deinit` releases them with `sodium_free`, which
/// zeroes the memory first. The contents never change after initialisation.
/// The corresponding C functions are `sodium_malloc` and `sodium_free`.
///
/// `@unchecked Sendable` is sound because the only stored state is a pointer and a count
/// that are both set once in `init` and never mutated; the memory they describe is written
/// only during `init` (and then made read-only) and freed only in `deinit`, when no other
/// reference can exist. Concurrent reads of immutable memory are race-free.
public final class SecureBytes: @unchecked Sendable {
    /// Start of the `sodium_malloc` allocation (at least one byte, even when `count` is 0).
    private let pointer: UnsafeMutablePointer<UInt8>

    /// The number of secret bytes.
    ///
    /// Stored rather than computed, so reading it does not touch the guarded memory.
    public let count: Int

    /// Allocates `count` bytes of guarded memory, lets `initialize` fill them, then makes
    /// them read-only.
    ///
    /// `initialize` receives a pointer valid for exactly `count` bytes (a one-byte
    /// allocation when `count` is 0) and must not let it escape.
    /// Traps if libsodium cannot be initialised or the allocation fails (out of memory).
    init(count: Int, initialize: (UnsafeMutablePointer<UInt8>) -> Void) {
        precondition(count >= 0, "SecureBytes count must not be negative")
        Sodium.requireReady()
        // sodium_malloc(0) is legal, but allocating at least one byte keeps the pointer
        // meaningful for C functions that require a non-null argument.
        guard let raw = sodium_malloc(Swift.max(count, 1)) else {
            fatalError("EntenteCrypto: sodium_malloc failed (out of memory)")
        }
        let typed = raw.bindMemory(to: UInt8.self, capacity: Swift.max(count, 1))
        typed.initialize(repeating: 0, count: Swift.max(count, 1))
        initialize(typed)
        // Best effort: a failure only means the memory stays writable.
        _ = sodium_mprotect_readonly(raw)
        self.pointer = typed
        self.count = count
    }

    /// Copies `bytes` into guarded memory.
    ///
    /// The caller's array is not wiped; keep such arrays short-lived.
    /// The corresponding C function is `sodium_malloc`.
    ///
    /// - Parameter bytes: The secret to copy.
    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count) { destination in
            bytes.withCPointer { source, count in
                destination.update(from: source, count: count)
            }
        }
    }

    /// Creates `count` cryptographically secure random bytes directly in guarded memory.
    ///
    /// The random bytes never pass through ordinary memory.
    /// The corresponding C function is `randombytes_buf`.
    ///
    /// - Parameter count: The number of bytes; must not be negative (programmer error).
    public static func random(count: Int) -> SecureBytes {
        SecureBytes(count: count) { destination in
            randombytes_buf(destination, count)
        }
    }

    deinit {
        // sodium_free makes the region writable again, zeroes it and unmaps it.
        sodium_free(pointer)
    }

    /// Calls `body` with a read-only view of the secret bytes.
    ///
    /// The buffer is valid only for the duration of `body`; do not let it escape.
    /// No C function is called.
    ///
    /// - Parameter body: A closure that reads the secret.
    /// - Returns: Whatever `body` returns.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Calls `body` with a non-null pointer to the secret and its count.
    ///
    /// The pointer is valid for `count` bytes (readable for at least one byte) only for the
    /// duration of `body`.
    func withSecretPointer<R>(_ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        body(UnsafePointer(pointer), count)
    }

    /// Copies the secret out, for example to write a key file.
    ///
    /// The caller owns the copy, which lives in ordinary memory and is not wiped
    /// automatically. No C function is called.
    ///
    /// - Returns: A copy of the secret bytes.
    public func copyBytes() -> [UInt8] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// Compares the secret with another in constant time.
    ///
    /// The running time depends only on the lengths, never on the contents. Secrets of
    /// different lengths compare unequal immediately (lengths are not treated as secret).
    /// The corresponding C function is `sodium_memcmp`.
    ///
    /// - Parameter other: The secret to compare with.
    /// - Returns: `true` if both hold the same bytes.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        guard count > 0 else { return true }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }
}

/// Cryptographically secure random bytes in ordinary memory.
///
/// Suitable for nonces, identifiers and salts. For secret keys prefer
/// ``SecureBytes/random(count:)``, which never places the bytes in ordinary memory.
/// Traps if libsodium cannot be initialised.
/// The corresponding C function is `randombytes_buf`.
///
/// - Parameter count: The number of bytes; must not be negative (programmer error).
/// - Returns: `count` random bytes.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    precondition(count >= 0, "secureRandomBytes count must not be negative")
    Sodium.requireReady()
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withMutableCPointer { pointer, length in
        randombytes_buf(pointer, length)
    }
    return bytes
}
