import EntenteCore
import EntenteCrypto
import EntenteTestSupport
import Testing

@testable import EntenteWire

/// Pins the byte layout of Specs/envelope.md: fields at fixed offsets, big-endian integers, and what the
/// signature and the AEAD associated data cover.
@Suite("Envelope byte layout")
struct EnvelopeLayoutTests {
    private func uint(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }

    @Test("every field of a sealed envelope sits at its documented offset")
    func layout() throws {
        var rng = SplitMix64(seed: 2024)
        let companies = try (0..<3).map { _ in try TestCompany(&rng) }
        let origin = companies[0]
        let replica = try origin.replica(&rng)
        let operations = sampleOperations(owner: origin.id, partner: companies[1].id, rng: &rng)
        let sequences: [CompanyID: UInt64] = [
            companies[0].id: 1, companies[1].id: 0x0102_0304_0506_0708, companies[2].id: 300,
        ]
        let addressees = companies.map { $0.addressee(sequence: sequences[$0.id]!) }
        let envelope = try Envelope.seal(operations, from: replica, to: addressees)
        let bytes = envelope.bytes

        #expect(Array(bytes[0..<4]) == Array("ENTE".utf8))
        #expect(bytes[4] == 1)  // major
        #expect(bytes[5] == 0)  // minor
        #expect(uint(bytes[6..<8]) == 0)  // extension length
        #expect(Array(bytes[8..<24]) == origin.id.bytes)
        #expect(Array(bytes[24..<56]) == replica.key.publicKey.bytes)
        #expect(Array(bytes[56..<120]) == replica.certificate.signature)
        // The certificate signature is the company's over "entente/replica-cert/v1" || company || replica key.
        let certified = Array("entente/replica-cert/v1".utf8) + origin.id.bytes + replica.key.publicKey.bytes
        #expect(origin.signing.publicKey.isValidSignature(Array(bytes[56..<120]), for: certified))
        #expect(uint(bytes[120..<122]) == 3)

        // Recipients: ascending company id, each 16 + 8 + 80 bytes.
        let ordered = companies.sorted { $0.id < $1.id }
        var offset = 122
        for company in ordered {
            #expect(Array(bytes[offset..<offset + 16]) == company.id.bytes)
            #expect(uint(bytes[offset + 16..<offset + 24]) == sequences[company.id])
            let sealedKey = Array(bytes[offset + 24..<offset + 104])
            let contentKey = try SealedBox.open(sealedKey, with: company.box)
            #expect(contentKey.count == 32)
            offset += 104
        }
        #expect(Array(bytes[122..<138]) == ordered[0].id.bytes)
        #expect(uint(bytes[138..<146]) == sequences[ordered[0].id])
        #expect(bytes[146..<226].count == 80)

        // Then the 24-byte nonce, the 32-byte key commitment (end of the header = AEAD associated data), the
        // u32 ciphertext length, the ciphertext, and the 64-byte signature.
        let nonce = Array(bytes[offset..<offset + 24])
        let commitment = Array(bytes[offset + 24..<offset + 56])
        let header = Array(bytes[..<(offset + 56)])
        #expect(envelope.headerLength == offset + 56)
        offset += 56
        let length = Int(uint(bytes[offset..<offset + 4]))
        offset += 4
        let ciphertext = Array(bytes[offset..<offset + length])
        offset += length
        #expect(offset + 64 == bytes.count)

        // Last 64 bytes: the replica's Ed25519 signature over every byte before them.
        let signature = Array(bytes.suffix(64))
        let signed = Array(bytes.dropLast(64))
        #expect(replica.key.publicKey.isValidSignature(signature, for: signed))
        #expect(!origin.signing.publicKey.isValidSignature(signature, for: signed))

        // The payload decrypts with the content key, the nonce and the header as associated data.
        let contentKeyBytes = try SealedBox.open(Array(bytes[146..<226]), with: ordered[0].box)
        #expect(commitment == BLAKE2b.hash(Array("entente/content-key/v1".utf8) + contentKeyBytes, outputLength: 32))
        let contentKey = try SymmetricKey(bytes: contentKeyBytes)
        let plaintext = try XChaCha20Poly1305.open(ciphertext, key: contentKey, nonce: nonce, associatedData: header)
        #expect(try OperationCodec.decode(plaintext) == operations)
        #expect(plaintext == OperationCodec.encode(operations))
    }

    /// An envelope assembled by hand from the spec, with a minor version and header extensions that 1.0 does
    /// not know: readers must accept it, keep the extensions, verify it and open it.
    @Test("a hand-assembled 1.3 envelope with header extensions parses, verifies and opens")
    func handAssembled() throws {
        var rng = SplitMix64(seed: 7)
        let origin = try TestCompany(&rng)
        let partner = try TestCompany(&rng)
        let replica = try origin.replica(&rng)
        let operations = sampleOperations(owner: origin.id, partner: partner.id, rng: &rng)
        let extensions: [UInt8] = [0xDE, 0xAD, 0xBE]
        let contentKey = try SymmetricKey(bytes: rng.bytes(32))
        let nonce = rng.bytes(24)

        var header: [UInt8] = Array("ENTE".utf8) + [1, 3, 0, UInt8(extensions.count)] + extensions
        header += origin.id.bytes + replica.key.publicKey.bytes + replica.certificate.signature
        header += [0, 1] + partner.id.bytes + [0, 0, 0, 0, 0, 0, 0, 9]
        header += SealedBox.seal(contentKey.copyBytes(), to: partner.box.publicKey)
        header += nonce
        header += BLAKE2b.hash(Array("entente/content-key/v1".utf8) + contentKey.copyBytes(), outputLength: 32)
        let ciphertext = try XChaCha20Poly1305.seal(
            OperationCodec.encode(operations),
            key: contentKey,
            nonce: nonce,
            associatedData: header
        )
        let length = UInt32(ciphertext.count)
        var bytes =
            header + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        bytes += ciphertext
        bytes += replica.key.signature(for: bytes)

        let envelope = try Envelope(parsing: bytes)
        #expect(envelope.minorVersion == 3)
        #expect(envelope.extensions == extensions)
        #expect(envelope.recipients.map(\.sequence) == [9])
        try envelope.verify(companyKey: origin.signing.publicKey)
        #expect(try envelope.open(as: partner.id, with: partner.box) == operations)

        // The extensions are covered by the AEAD: change one and re-sign, and decryption fails.
        var altered = bytes
        altered[8] ^= 0xFF
        altered.replaceSubrange((altered.count - 64)..., with: replica.key.signature(for: Array(altered.dropLast(64))))
        let reparsed = try Envelope(parsing: altered)
        try reparsed.verify(companyKey: origin.signing.publicKey)
        let error = wireError { () throws(WireError) in try reparsed.open(as: partner.id, with: partner.box) }
        #expect(error?.code == .decryptionFailed)
    }

    /// A validly signed envelope whose sequence number is above Int64.max is refused by the parser.
    @Test("sequence numbers above Int64.max are malformed even when the signature is valid")
    func hugeSequenceIsRefused() throws {
        var rng = SplitMix64(seed: 11)
        let origin = try TestCompany(&rng)
        let partner = try TestCompany(&rng)
        let replica = try origin.replica(&rng)
        let addressee = Addressee(company: partner.id, encryptionKey: partner.box.publicKey, sequence: 1)
        let sealed = try Envelope.seal([], from: replica, to: [addressee])
        var bytes = Array(sealed.bytes.dropLast(64))
        bytes.replaceSubrange(138..<146, with: [0x80, 0, 0, 0, 0, 0, 0, 0])
        bytes += replica.key.signature(for: bytes)
        #expect {
            _ = try Envelope(parsing: bytes)
        } throws: { error in
            (error as? WireError)?.code == .malformed && "\(error)".contains("outside")
        }
    }

    /// A malicious sender seals a different content key to one recipient than the header commits to (with a
    /// non-committing AEAD it could otherwise make one signed envelope mean different things to different
    /// recipients). The recipient refuses it even though the signature and the AEAD both check out.
    @Test("a sealed key that does not match the key commitment is refused")
    func keyCommitmentIsChecked() throws {
        var rng = SplitMix64(seed: 12)
        let origin = try TestCompany(&rng)
        let partner = try TestCompany(&rng)
        let replica = try origin.replica(&rng)
        let committed = rng.bytes(32)
        let actual = try SymmetricKey(bytes: rng.bytes(32))
        let nonce = rng.bytes(24)
        var header: [UInt8] = Array("ENTE".utf8) + [1, 0, 0, 0]
        header += origin.id.bytes + replica.key.publicKey.bytes + replica.certificate.signature
        header += [0, 1] + partner.id.bytes + [0, 0, 0, 0, 0, 0, 0, 1]
        header += SealedBox.seal(actual.copyBytes(), to: partner.box.publicKey)
        header += nonce
        header += BLAKE2b.hash(Array("entente/content-key/v1".utf8) + committed, outputLength: 32)
        let ciphertext = try XChaCha20Poly1305.seal(
            OperationCodec.encode([]),
            key: actual,
            nonce: nonce,
            associatedData: header
        )
        let length = UInt32(ciphertext.count)
        var bytes =
            header + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        bytes += ciphertext
        bytes += replica.key.signature(for: bytes)
        let envelope = try Envelope(parsing: bytes)
        try envelope.verify(companyKey: origin.signing.publicKey)
        #expect {
            _ = try envelope.open(as: partner.id, with: partner.box)
        } throws: { error in
            (error as? WireError)?.code == .decryptionFailed && "\(error)".contains("commitment")
        }
    }
}
