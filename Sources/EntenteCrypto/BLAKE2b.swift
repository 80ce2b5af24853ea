internal import CSodium

/// The BLAKE2b hash function, optionally keyed (a MAC).
///
/// The corresponding C function is `crypto_generichash`.
public enum BLAKE2b {
    /// Hashes `data` to `outputLength` bytes, optionally keyed.
    ///
    /// Different output lengths give unrelated digests, not truncations of each other.
    /// Passing an `outputLength` outside 16...64 or a key outside 16...64 bytes is a
    /// programmer error and traps; `data` may be anything, including empty.
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_generichash`.
    ///
    /// - Parameters:
    ///   - data: The input; may be empty.
    ///   - outputLength: The digest length in bytes, 16...64 (default 32).
    ///   - key: An optional key of 16...64 bytes, for use as a MAC.
    /// - Returns: The `outputLength`-byte digest.
    public static func hash(_ data: [UInt8], outputLength: Int = 32, key: [UInt8]? = nil) -> [UInt8] {
        Sodium.requireReady()
        precondition(
            (crypto_generichash_bytes_min()...crypto_generichash_bytes_max()).contains(outputLength),
            "BLAKE2b output length must be in \(crypto_generichash_bytes_min())...\(crypto_generichash_bytes_max()), got \(outputLength)"
        )
        if let key {
            precondition(
                (crypto_generichash_keybytes_min()...crypto_generichash_keybytes_max()).contains(key.count),
                "BLAKE2b key length must be in \(crypto_generichash_keybytes_min())...\(crypto_generichash_keybytes_max()), got \(key.count)"
            )
        }
        var digest = [UInt8](repeating: 0, count: outputLength)
        let keyBytes = key ?? []
        let status = digest.withMutableCPointer { digestPointer, digestLength in
            data.withCPointer { dataPointer, dataLength in
                keyBytes.withCPointer { keyPointer, keyLength in
                    crypto_generichash(
                        digestPointer,
                        digestLength,
                        dataPointer,
                        UInt64(dataLength),
                        keyLength == 0 ? nil : keyPointer,
                        keyLength
                    )
                }
            }
        }
        precondition(status == 0, "crypto_generichash failed")
        return digest
    }
}

extension BLAKE2b {
    /// An unkeyed BLAKE2b digest computed over input given in pieces: the digest equals ``BLAKE2b/hash(_:outputLength:key:)``
    /// of the pieces joined, without holding them together (a bundle file is hashed as it is read or written).
    ///
    /// The corresponding C functions are `crypto_generichash_init`, `_update` and `_final`.
    public final class Hasher {
        /// libsodium's `crypto_generichash_state`, which Swift sees only as an opaque pointer (it is 64-byte aligned).
        private let state: OpaquePointer
        private let outputLength: Int

        /// Starts a digest of `outputLength` bytes (16...64; outside that range traps).
        public init(outputLength: Int = 32) {
            Sodium.requireReady()
            precondition(
                (crypto_generichash_bytes_min()...crypto_generichash_bytes_max()).contains(outputLength),
                "BLAKE2b output length must be in \(crypto_generichash_bytes_min())...\(crypto_generichash_bytes_max()), got \(outputLength)"
            )
            self.outputLength = outputLength
            // libsodium wants the state 64-byte aligned.
            state = OpaquePointer(
                UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
            )
            precondition(crypto_generichash_init(state, nil, 0, outputLength) == 0, "crypto_generichash_init failed")
        }

        deinit { UnsafeMutableRawPointer(state).deallocate() }

        /// Adds `bytes` to the input.
        public func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// Adds the bytes in `buffer` to the input.
        public func update(_ buffer: UnsafeRawBufferPointer) {
            let start = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            precondition(
                crypto_generichash_update(state, start, UInt64(buffer.count)) == 0,
                "crypto_generichash_update failed"
            )
        }

        /// The digest of everything added. Call it once: the state is spent afterwards.
        public func finalize() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: outputLength) { buffer, count in
                guard let start = buffer.baseAddress else { preconditionFailure("no room for the digest") }
                precondition(
                    crypto_generichash_final(state, start, outputLength) == 0,
                    "crypto_generichash_final failed"
                )
                count = outputLength
            }
        }
    }
}
