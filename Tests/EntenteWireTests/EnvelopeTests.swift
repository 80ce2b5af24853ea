import EntenteCore
import EntenteCrypto
import EntenteTestSupport
import Testing

@testable import EntenteWire

/// Three audience companies (origin `a`, partners `b` and `c`) and an outsider `d`.
private struct Fixture {
    var rng: SplitMix64
    let a: TestCompany
    let b: TestCompany
    let c: TestCompany
    let d: TestCompany
    let replica: ReplicaCredentials

    init(seed: UInt64 = 42) throws {
        rng = SplitMix64(seed: seed)
        a = try TestCompany(&rng)
        b = try TestCompany(&rng)
        c = try TestCompany(&rng)
        d = try TestCompany(&rng)
        replica = try a.replica(&rng)
    }

    var audience: [TestCompany] { [a, b, c] }

    mutating func operations() -> [Operation] { sampleOperations(owner: a.id, partner: b.id, rng: &rng) }

    func seal(_ operations: [Operation], to companies: [TestCompany]? = nil) throws -> Envelope {
        let addressees = (companies ?? audience).enumerated().map { $1.addressee(sequence: UInt64($0 + 1)) }
        return try Envelope.seal(operations, from: replica, to: addressees)
    }
}

/// Offsets of the fixed-size header (Specs/envelope.md).
private enum Layout {
    static let recipientCount = 120
    static let firstRecipient = 122
    static let recipientSize = 16 + 8 + 80
}

@Suite("Envelope")
struct EnvelopeTests {
    @Test("seal, parse, verify and open round-trip for each of three recipients")
    func roundTrip() throws {
        var fixture = try Fixture()
        let operations = fixture.operations()
        let sealed = try fixture.seal(operations)
        let parsed = try Envelope(parsing: sealed.bytes)
        #expect(parsed == sealed)
        #expect(parsed.origin == fixture.a.id)
        #expect(parsed.replica == fixture.replica.replica)
        #expect(Set(parsed.audience) == Set(fixture.audience.map(\.id)))
        #expect(parsed.audience == parsed.audience.sorted())
        #expect(parsed.minorVersion == 0)
        #expect(parsed.extensions.isEmpty)
        try parsed.verify(companyKey: fixture.a.signing.publicKey)
        for company in fixture.audience {
            #expect(try parsed.open(as: company.id, with: company.box) == operations)
        }
        // Each recipient is listed with the sequence number the sender chose for it.
        let sequences = Dictionary(uniqueKeysWithValues: parsed.recipients.map { ($0.company, $0.sequence) })
        #expect(sequences == [fixture.a.id: 1, fixture.b.id: 2, fixture.c.id: 3])
        // The ciphertext never contains the plaintext payload.
        let plaintext = OperationCodec.encode(operations)
        #expect(!sealed.bytes.containsSubsequence(Array(plaintext.suffix(24))))
    }

    @Test("keys made with generate() work as well as seeded ones")
    func generatedKeys() throws {
        let origin = TestCompany(signing: .generate(), box: .generate())
        let partner = TestCompany(signing: .generate(), box: .generate())
        let replicaKey = SigningKeyPair.generate()
        let credentials = ReplicaCredentials(
            key: replicaKey,
            certificate: .issue(companyKey: origin.signing, replicaKey: replicaKey.publicKey)
        )
        var rng = SplitMix64(seed: 3)
        let operations = sampleOperations(owner: origin.id, partner: partner.id, rng: &rng)
        let envelope = try Envelope.seal(
            operations,
            from: credentials,
            to: [partner.addressee(sequence: 7), origin.addressee(sequence: 1)]
        )
        try envelope.verify(companyKey: origin.signing.publicKey)
        #expect(try envelope.open(as: partner.id, with: partner.box) == operations)
        #expect(try envelope.open(as: origin.id, with: origin.box) == operations)
    }

    @Test("sealing an empty batch works; sealing for no one or over 64 recipients is refused")
    func addresseeBounds() throws {
        let fixture = try Fixture()
        let empty = try fixture.seal([])
        #expect(try empty.open(as: fixture.b.id, with: fixture.b.box) == [])
        let none = wireError { () throws(WireError) in try Envelope.seal([], from: fixture.replica, to: []) }
        #expect(none?.code == .tooLarge)
        var rng = SplitMix64(seed: 5)
        let many = (0..<65).map { index in
            Addressee(company: rng.company(), encryptionKey: fixture.b.box.publicKey, sequence: UInt64(index + 1))
        }
        let tooMany = wireError { () throws(WireError) in try Envelope.seal([], from: fixture.replica, to: many) }
        #expect(tooMany?.code == .tooLarge)
        let sixtyFour = try Envelope.seal([], from: fixture.replica, to: Array(many.prefix(64)))
        #expect(sixtyFour.recipients.count == 64)
    }

    @Test("sealing to the same company twice, or with sequence 0, throws instead of producing a bad envelope")
    func badAddressees() throws {
        let fixture = try Fixture()
        let twice = [fixture.b.addressee(sequence: 1), fixture.b.addressee(sequence: 2)]
        #expect(
            wireError { () throws(WireError) in try Envelope.seal([], from: fixture.replica, to: twice) }?.code
                == .malformed
        )
        let zero = [fixture.b.addressee(sequence: 0)]
        #expect(
            wireError { () throws(WireError) in try Envelope.seal([], from: fixture.replica, to: zero) }?.code
                == .malformed
        )
    }

    @Test("a company outside the audience gets .notAddressedToUs")
    func notAddressed() throws {
        var fixture = try Fixture()
        let envelope = try fixture.seal(fixture.operations())
        let error = wireError { () throws(WireError) in try envelope.open(as: fixture.d.id, with: fixture.d.box) }
        #expect(error?.code == .notAddressedToUs)
    }

    @Test("a recipient id with someone else's key pair cannot decrypt")
    func wrongKeyPair() throws {
        var fixture = try Fixture()
        let envelope = try fixture.seal(fixture.operations())
        let error = wireError { () throws(WireError) in try envelope.open(as: fixture.b.id, with: fixture.d.box) }
        #expect(error?.code == .decryptionFailed)
    }

    @Test("verifying against another company's key fails with .badCertificate")
    func wrongCompanyKey() throws {
        var fixture = try Fixture()
        let envelope = try fixture.seal(fixture.operations())
        for other in [fixture.b, fixture.c, fixture.d] {
            let error = wireError { () throws(WireError) in try envelope.verify(companyKey: other.signing.publicKey) }
            #expect(error?.code == .badCertificate)
        }
    }

    @Test("a certificate signed by company A but claiming company B is refused")
    func certificateForAnotherCompany() throws {
        var fixture = try Fixture()
        let honest = fixture.replica.certificate
        let forged = ReplicaCertificate(
            company: fixture.b.id,
            replicaKey: honest.replicaKey,
            signature: honest.signature
        )
        let credentials = ReplicaCredentials(key: fixture.replica.key, certificate: forged)
        let envelope = try Envelope.seal(
            fixture.operations(),
            from: credentials,
            to: [fixture.b.addressee(sequence: 1)]
        )
        #expect(envelope.origin == fixture.b.id)
        for key in [fixture.b.signing.publicKey, fixture.a.signing.publicKey] {
            #expect(wireError { () throws(WireError) in try envelope.verify(companyKey: key) }?.code == .badCertificate)
        }
    }

    @Test("a replica key not certified by the company is refused even when the signature itself is valid")
    func uncertifiedReplica() throws {
        var fixture = try Fixture()
        let rogue = try SigningKeyPair(seed: fixture.rng.bytes(32))
        // The certificate's signature is the company's signature for another replica key.
        let certificate = ReplicaCertificate(
            company: fixture.a.id,
            replicaKey: rogue.publicKey,
            signature: fixture.replica.certificate.signature
        )
        let credentials = ReplicaCredentials(key: rogue, certificate: certificate)
        let envelope = try Envelope.seal([], from: credentials, to: [fixture.b.addressee(sequence: 1)])
        let error = wireError { () throws(WireError) in try envelope.verify(companyKey: fixture.a.signing.publicKey) }
        #expect(error?.code == .badCertificate)
    }

    @Test("flipping any byte of a small envelope makes parse, verify or open fail")
    func everyByteFlip() throws {
        var fixture = try Fixture()
        let nonce = fixture.rng.bytes(16)
        let object = Derivation.objectID(owner: fixture.a.id, nonce: nonce)
        let operations = [
            Operation(
                object: object,
                timestamp: Timestamp(physical: 1, counter: 0, replica: fixture.replica.replica),
                kind: .create(type: "t", nonce: nonce)
            )
        ]
        let envelope = try fixture.seal(operations, to: [fixture.a, fixture.b])
        let original = envelope.bytes
        var survivors: [Int] = []
        for index in original.indices {
            var bytes = original
            bytes[index] ^= 0x01
            do {
                let parsed = try Envelope(parsing: bytes)
                try parsed.verify(companyKey: fixture.a.signing.publicKey)
                _ = try parsed.open(as: fixture.b.id, with: fixture.b.box)
                survivors.append(index)
            } catch {
                continue
            }
        }
        #expect(survivors.isEmpty, "byte flips that went unnoticed at offsets \(survivors) of \(original.count)")
    }

    @Test("every truncation throws")
    func everyTruncation() throws {
        var fixture = try Fixture()
        let bytes = try fixture.seal(fixture.operations(), to: [fixture.a, fixture.b]).bytes
        var parsed: [Int] = []
        for length in 0..<bytes.count {
            if wireError({ () throws(WireError) in try Envelope(parsing: Array(bytes[..<length])) }) == nil {
                parsed.append(length)
            }
        }
        #expect(parsed.isEmpty, "truncated lengths that parsed: \(parsed)")
    }

    /// Truncations report `.truncated` (and say so), whatever field they cut.
    @Test(
        "every truncation throws .truncated"
    )
    func everyTruncationIsTruncated() throws {
        var fixture = try Fixture()
        let bytes = try fixture.seal(fixture.operations(), to: [fixture.a, fixture.b]).bytes
        var failures: [Int] = []
        for length in 0..<bytes.count {
            let error = wireError { () throws(WireError) in try Envelope(parsing: Array(bytes[..<length])) }
            if error?.code != .truncated { failures.append(length) }
        }
        // Fails for lengths 24..<56 (inside the replica key): "envelope is malformed at byte 24: replica key".
        #expect(failures.isEmpty, "lengths that did not throw .truncated: \(failures)")
    }

    @Test("trailing bytes after the signature are malformed")
    func trailingBytes() throws {
        var fixture = try Fixture()
        let bytes = try fixture.seal(fixture.operations()).bytes
        #expect(wireError { () throws(WireError) in try Envelope(parsing: bytes + [0]) }?.code == .malformed)
    }

    @Test("a create whose object id is not derived from the origin and nonce makes open throw .badObjectID")
    func badObjectID() throws {
        var fixture = try Fixture()
        let nonce = fixture.rng.bytes(16)
        let stamp = Timestamp(physical: 5, counter: 0, replica: fixture.replica.replica)
        // Candidates: a random id, the id derived for another owner, the id derived from another nonce.
        let wrongIDs = [
            fixture.rng.object(),
            Derivation.objectID(owner: fixture.b.id, nonce: nonce),
            Derivation.objectID(owner: fixture.a.id, nonce: fixture.rng.bytes(16)),
        ]
        for wrong in wrongIDs {
            let operations =
                fixture.operations() + [
                    Operation(object: wrong, timestamp: stamp, kind: .create(type: "x", nonce: nonce))
                ]
            let envelope = try fixture.seal(operations)
            try envelope.verify(companyKey: fixture.a.signing.publicKey)
            let error = wireError { () throws(WireError) in try envelope.open(as: fixture.b.id, with: fixture.b.box) }
            #expect(error?.code == .badObjectID)
        }
        // A create named by a stamp under another owner (version 3 carries no nonce then): the same check refuses
        // it, and accepts it under the origin's own company.
        for owner in [fixture.b.id, fixture.a.id] {
            let (object, derived) = Derivation.objectID(owner: owner, created: stamp)
            let create = Operation(object: object, timestamp: stamp, kind: .create(type: "x", nonce: derived))
            let addressees = fixture.audience.enumerated().map { $1.addressee(sequence: UInt64($0 + 1)) }
            let envelope = try Envelope.seal(
                [create],
                from: fixture.replica,
                to: addressees,
                origins: [ObjectOrigin(owner: owner, created: stamp)]
            )
            let error = wireError { () throws(WireError) in try envelope.open(as: fixture.b.id, with: fixture.b.box) }
            #expect(error?.code == (owner == fixture.a.id ? nil : .badObjectID))
        }
        // Writes to objects the origin does not own are not the wire layer's business (authority is).
        let foreign = Operation(object: fixture.rng.object(), timestamp: stamp, kind: .addParticipant(fixture.c.id))
        let envelope = try fixture.seal([foreign])
        #expect(try envelope.open(as: fixture.b.id, with: fixture.b.box) == [foreign])
    }

    @Test("major version 2 is refused with .unsupportedVersion; an unknown minor version is accepted by parse")
    func versions() throws {
        var fixture = try Fixture()
        var bytes = try fixture.seal(fixture.operations()).bytes
        bytes[4] = 2
        let error = wireError { () throws(WireError) in try Envelope(parsing: bytes) }
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message.contains("2.x") == true)
        bytes[4] = 1
        bytes[5] = 7
        #expect(try Envelope(parsing: bytes).minorVersion == 7)
    }

    @Test("bad magic is malformed")
    func badMagic() throws {
        var fixture = try Fixture()
        var bytes = try fixture.seal(fixture.operations()).bytes
        bytes[0] = UInt8(ascii: "X")
        let error = wireError { () throws(WireError) in try Envelope(parsing: bytes) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("magic") == true)
    }

    @Test("recipients out of order or duplicated are malformed")
    func recipientOrder() throws {
        var fixture = try Fixture()
        let bytes = try fixture.seal(fixture.operations()).bytes
        let size = Layout.recipientSize
        let first = Layout.firstRecipient
        let block0 = Array(bytes[first..<first + size])
        let block1 = Array(bytes[first + size..<first + 2 * size])

        var swapped = bytes
        swapped.replaceSubrange(first..<first + size, with: block1)
        swapped.replaceSubrange(first + size..<first + 2 * size, with: block0)
        let swapError = wireError { () throws(WireError) in try Envelope(parsing: swapped) }
        #expect(swapError?.code == .malformed)
        #expect(swapError?.message.contains("ascending") == true)

        var duplicated = bytes
        duplicated.replaceSubrange(first + size..<first + 2 * size, with: block0)
        #expect(wireError { () throws(WireError) in try Envelope(parsing: duplicated) }?.code == .malformed)
    }

    @Test("recipient count must be 1...64 and sequences start at 1", arguments: [UInt16(0), 65, 0xFFFF])
    func recipientCount(count: UInt16) throws {
        var fixture = try Fixture()
        var bytes = try fixture.seal(fixture.operations()).bytes
        bytes[Layout.recipientCount] = UInt8(count >> 8)
        bytes[Layout.recipientCount + 1] = UInt8(count & 0xFF)
        #expect(wireError { () throws(WireError) in try Envelope(parsing: bytes) }?.code == .malformed)
    }

    @Test("a zero sequence number is malformed")
    func zeroSequence() throws {
        var fixture = try Fixture()
        var bytes = try fixture.seal(fixture.operations()).bytes
        let sequence = Layout.firstRecipient + 16
        for offset in sequence..<sequence + 8 { bytes[offset] = 0 }
        #expect(wireError { () throws(WireError) in try Envelope(parsing: bytes) }?.code == .malformed)
    }

    @Test("a ciphertext shorter than its tag is malformed; an oversized envelope is refused before parsing")
    func lengths() throws {
        let fixture = try Fixture()
        let envelope = try fixture.seal([], to: [fixture.b])
        // Rebuild with a 15-byte ciphertext: header, length 15, 15 bytes, 64-byte signature.
        var writer = ByteWriter()
        writer.write(envelope.bytes[..<envelope.headerLength])
        writer.writeUInt32(15)
        writer.write([UInt8](repeating: 0, count: 15))
        writer.write([UInt8](repeating: 0, count: 64))
        #expect(wireError { () throws(WireError) in try Envelope(parsing: writer.bytes) }?.code == .malformed)

        let oversized = [UInt8](repeating: 0, count: Envelope.maxBytes + 1)
        #expect(wireError { () throws(WireError) in try Envelope(parsing: oversized) }?.code == .tooLarge)
    }

    @Test("hashes identify envelopes: equal bytes, equal hash; two seals of the same batch differ")
    func hashes() throws {
        var fixture = try Fixture()
        let operations = fixture.operations()
        let first = try fixture.seal(operations)
        let second = try fixture.seal(operations)
        #expect(try Envelope(parsing: first.bytes).hash == first.hash)
        #expect(first.hash != second.hash)
        #expect(first.hash.bytes == BLAKE2b.hash(first.bytes, outputLength: 32))
        #expect(EnvelopeHash(bytes: [UInt8](repeating: 0, count: 31)) == nil)
    }

    @Test("random bytes behind a valid magic never trap the parser")
    func parserFuzz() throws {
        var fixture = try Fixture()
        let valid = try fixture.seal(fixture.operations(), to: [fixture.b]).bytes
        var rng = SplitMix64(seed: 77)
        var parsed = 0
        for round in 0..<2_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = Array("ENTE".utf8) + [1, 0] + rng.bytes(rng.int(0...400))
            } else {
                bytes = valid
                for _ in 0..<rng.int(1...3) {
                    bytes[rng.int(0...(bytes.count - 1))] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            guard let envelope = try? Envelope(parsing: bytes) else { continue }
            parsed += 1
            // A mutated envelope that parses must never verify.
            if bytes != valid {
                #expect(throws: WireError.self) { try envelope.verify(companyKey: fixture.a.signing.publicKey) }
            }
        }
        #expect(parsed > 0)
    }
}

extension Array where Element: Equatable {
    fileprivate func containsSubsequence(_ needle: [Element]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
