import EntenteCore
import EntenteCrypto
import EntenteTestSupport
import Testing

@testable import EntenteWire

@Suite("Derivation")
struct DerivationTests {
    private func keys(_ count: Int, seed: UInt64) throws -> [SigningPublicKey] {
        var rng = SplitMix64(seed: seed)
        return try (0..<count).map { _ in try SigningKeyPair(seed: rng.bytes(32)).publicKey }
    }

    @Test("ids follow the documented BLAKE2b-128 formulas")
    func formulas() throws {
        let key = try keys(1, seed: 1)[0]
        let company = Derivation.companyID(for: key)
        #expect(company.bytes == BLAKE2b.hash(Array("entente/company/v1".utf8) + key.bytes, outputLength: 16))
        let replica = Derivation.replicaID(for: key)
        #expect(replica.bytes == BLAKE2b.hash(Array("entente/replica/v1".utf8) + key.bytes, outputLength: 16))
        let nonce = [UInt8](0..<16)
        let object = Derivation.objectID(owner: company, nonce: nonce)
        #expect(object.bytes == BLAKE2b.hash(Array("entente/object/v1".utf8) + company.bytes + nonce, outputLength: 16))
    }

    @Test("a known key gives known ids (golden vector)")
    func knownVector() throws {
        // Ed25519 key from the all-zero seed (RFC 8032-style seed, libsodium derivation).
        let key = try SigningKeyPair(seed: [UInt8](repeating: 0, count: 32)).publicKey
        #expect(Hex.encode(key.bytes) == "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29")
        // Expected values computed independently (Python hashlib.blake2b, digest_size=16).
        let company = Derivation.companyID(for: key)
        #expect(company.hex == "33e909cf8b6901a1df757388ed95893f")
        #expect(Derivation.replicaID(for: key).hex == "ff1489d7a03787d4439b9595d3b7b737")
        #expect(Derivation.objectID(owner: company, nonce: Array(0..<16)).hex == "5331c3e421f95c632bf4df9990ab5f95")
    }

    @Test("ids are deterministic")
    func deterministic() throws {
        let key = try keys(1, seed: 2)[0]
        let copy = try SigningPublicKey(bytes: key.bytes)
        #expect(Derivation.companyID(for: key) == Derivation.companyID(for: copy))
        #expect(Derivation.replicaID(for: key) == Derivation.replicaID(for: copy))
        let owner = Derivation.companyID(for: key)
        let nonce = [UInt8](repeating: 9, count: 16)
        #expect(
            Derivation.objectID(owner: owner, nonce: nonce) == Derivation.objectID(owner: owner, nonce: Array(nonce))
        )
    }

    @Test("ids differ between keys, between kinds, between owners and between nonces")
    func distinct() throws {
        let all = try keys(50, seed: 3)
        let companies = all.map(Derivation.companyID(for:))
        let replicas = all.map(Derivation.replicaID(for:))
        #expect(Set(companies).count == all.count)
        #expect(Set(replicas).count == all.count)
        // Domain separation: the same key never gives the same bits as a company and as a replica.
        #expect(Set(companies.map(\.raw)).isDisjoint(with: replicas.map(\.raw)))

        var rng = SplitMix64(seed: 4)
        var objects = Set<ObjectID>()
        for owner in companies.prefix(10) {
            for _ in 0..<10 { objects.insert(Derivation.objectID(owner: owner, nonce: rng.bytes(16))) }
        }
        #expect(objects.count == 100)
        let nonce = rng.bytes(16)
        #expect(
            Derivation.objectID(owner: companies[0], nonce: nonce)
                != Derivation.objectID(owner: companies[1], nonce: nonce)
        )
        var flipped = nonce
        flipped[15] ^= 1
        #expect(
            Derivation.objectID(owner: companies[0], nonce: nonce)
                != Derivation.objectID(owner: companies[0], nonce: flipped)
        )
    }

    @Test("an object created at a stamp has a nonce that only that stamp gives, and its id derives from it")
    func stampedObjectID() throws {
        let owners = try keys(2, seed: 5).map(Derivation.companyID(for:))
        let replica = ReplicaID(raw: ID128(high: 0xAB, low: 0xCD))
        let stamp = Timestamp(physical: 1_800_000_000_000, counter: 7, replica: replica)
        let created = Derivation.objectID(owner: owners[0], created: stamp)
        #expect(created.nonce.count == Derivation.nonceByteCount)
        #expect(created.nonce == Derivation.nonce(created: stamp))
        #expect(Derivation.objectID(owner: owners[0], nonce: created.nonce) == created.id)
        #expect(Derivation.objectID(owner: owners[1], created: stamp).id != created.id)
        let others = [
            Timestamp(physical: stamp.physical + 1, counter: 7, replica: replica),
            Timestamp(physical: stamp.physical, counter: 8, replica: replica),
            Timestamp(physical: stamp.physical, counter: 7, replica: ReplicaID(raw: ID128(high: 0xAB, low: 0xCE))),
        ]
        #expect(Set(others.map(Derivation.nonce(created:)) + [created.nonce]).count == 4)
        // Pinned: the bytes hashed are the prefix, the replica id, then physical and counter big-endian.
        var input = Array("entente/object-nonce/v1".utf8) + replica.bytes
        input += [0, 0, 0x01, 0xA3, 0x18, 0x5C, 0x50, 0x00] + [0, 0, 0, 7]
        #expect(created.nonce == BLAKE2b.hash(input, outputLength: 16))
    }

    @Test("a certificate's replica id is the derived id of its key, and it verifies only for its company")
    func certificates() throws {
        var rng = SplitMix64(seed: 6)
        let company = try TestCompany(&rng)
        let other = try TestCompany(&rng)
        let credentials = try company.replica(&rng)
        #expect(credentials.replica == Derivation.replicaID(for: credentials.key.publicKey))
        #expect(credentials.company == company.id)
        #expect(credentials.certificate.isValid(companyKey: company.signing.publicKey))
        #expect(!credentials.certificate.isValid(companyKey: other.signing.publicKey))
        var badSignature = credentials.certificate.signature
        badSignature[0] ^= 1
        let tampered = ReplicaCertificate(
            company: company.id,
            replicaKey: credentials.key.publicKey,
            signature: badSignature
        )
        #expect(!tampered.isValid(companyKey: company.signing.publicKey))
    }
}
