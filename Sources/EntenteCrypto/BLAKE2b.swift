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
