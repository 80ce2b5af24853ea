import EntenteCore
import EntenteCrypto
import EntenteStore
import EntenteTestSupport
import EntenteWire
import Foundation

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("entente-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Runs `body` with a fresh temporary directory, removed afterwards even if `body` throws.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    return try body(directory)
}

/// Runs `body` with a store opened on a new file in a fresh temporary directory.
func withStore<T>(_ body: (Store, TemporaryDirectory) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let store = try Store.open(path: directory.path("replica.sqlite"))
        return try body(store, directory)
    }
}

/// A company with its keys, built from seeded bytes so that ids (and their order) reproduce.
struct TestCompany {
    let signing: SigningKeyPair
    let box: BoxKeyPair

    init(_ rng: inout SplitMix64) throws {
        signing = try SigningKeyPair(seed: rng.bytes(32))
        box = try BoxKeyPair(secretKey: rng.bytes(32))
    }

    var id: CompanyID { Derivation.companyID(for: signing.publicKey) }

    func replica(_ rng: inout SplitMix64) throws -> ReplicaCredentials {
        let key = try SigningKeyPair(seed: rng.bytes(32))
        return ReplicaCredentials(key: key, certificate: .issue(companyKey: signing, replicaKey: key.publicKey))
    }

    func card(name: String, address: String? = nil) -> PartnerCard {
        PartnerCard.issue(name: name, companyKey: signing, encryptionKey: box.publicKey, address: address)
    }
}

/// Seals an envelope with no operations (the store never opens envelopes) addressed with the given sequences.
func envelope(
    from replica: ReplicaCredentials,
    to addressees: [(TestCompany, UInt64)],
    payload: UInt64 = 0
) throws -> Envelope {
    // A distinct payload makes two envelopes with the same addresses differ even if the seal were deterministic.
    let operations =
        payload == 0
        ? []
        : [
            Operation(
                object: ObjectID(raw: ID128(high: payload, low: payload)),
                timestamp: Timestamp(physical: payload, counter: 0, replica: replica.replica),
                kind: .addParticipant(replica.company)
            )
        ]
    return try Envelope.seal(
        operations,
        from: replica,
        to: addressees.map { Addressee(company: $0.0.id, encryptionKey: $0.0.box.publicKey, sequence: $0.1) }
    )
}

struct TestFailure: Error {}
