import EntenteCore
import EntenteTestSupport
import EntenteStore
import Foundation
import Testing

@Suite("Store: open and objects")
struct StoreObjectTests {
    /// An object with three participants and registers of every value kind, namespace and visibility.
    private func sampleState(seed: UInt64 = 1) -> (state: ObjectState, owner: CompanyID, partners: [CompanyID]) {
        var rng = SplitMix64(seed: seed)
        let owner = rng.company()
        let partners = [rng.company(), rng.company()]
        let replica = rng.replica()
        func stamp(_ physical: UInt64, _ counter: UInt32 = 0) -> Timestamp {
            Timestamp(physical: physical, counter: counter, replica: replica)
        }
        let fields: [FieldKey: Register] = [
            FieldKey(.joint, "title"): Register(value: .string("Büro ☕ 日本語"), timestamp: stamp(10), visibility: .participants),
            FieldKey(.joint, "empty"): Register(value: .string(""), timestamp: stamp(11), visibility: .participants),
            FieldKey(.joint, "cleared"): Register(value: .null, timestamp: stamp(12), visibility: .participants),
            FieldKey(.company(owner), "min"): Register(value: .integer(.min), timestamp: stamp(13, 7), visibility: .private),
            FieldKey(.company(owner), "max"): Register(
                value: .integer(.max),
                timestamp: stamp(UInt64.max, UInt32.max),
                visibility: .companies([partners[0]])
            ),
            FieldKey(.company(partners[0]), "flag"): Register(value: .boolean(true), timestamp: stamp(14), visibility: .participants),
            FieldKey(.company(partners[0]), "off"): Register(value: .boolean(false), timestamp: stamp(15), visibility: .companies([])),
            FieldKey(.company(partners[1]), "note"): Register(
                value: .string("e\u{0301} 😀"),
                timestamp: stamp(16),
                visibility: .companies([owner, partners[0]])
            ),
        ]
        let state = ObjectState(
            id: ObjectID(raw: rng.id128()),
            type: "opportunity",
            owner: owner,
            created: stamp(1),
            createNonce: rng.bytes(16),
            participants: [owner: stamp(1), partners[0]: stamp(2), partners[1]: stamp(3, 1)],
            fields: fields
        )
        return (state, owner, partners)
    }

    @Test("open creates and migrates a new file, and the file passes SQLite's integrity check")
    func openCreates() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("new.sqlite")
            #expect(!FileManager.default.fileExists(atPath: path))
            let store = try Store.open(path: path)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(store.path == path)
            #expect(try store.integrityCheck().isEmpty)
            // The schema is usable straight away.
            #expect(try store.read { tx in try tx.envelopeCount() } == 0)
            #expect(try store.read { tx in try tx.companies() }.isEmpty)
        }
    }

    @Test("reopening an existing file works and keeps its data")
    func reopen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("again.sqlite")
            do {
                let store = try Store.open(path: path)
                try store.write { tx in try tx.setMeta("clock", [1, 2, 3]) }
            }
            for _ in 0..<2 {
                let store = try Store.open(path: path)
                #expect(try store.read { tx in try tx.meta("clock") } == [1, 2, 3])
                #expect(try store.integrityCheck().isEmpty)
            }
        }
    }

    @Test("opening a path that cannot hold a database throws .cannotOpen")
    func cannotOpen() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.path("no-such-directory/replica.sqlite")
            let missingError = #expect(throws: StoreError.self) { try Store.open(path: missing) }
            #expect(missingError?.code == .cannotOpen)
            let garbage = directory.path("garbage.sqlite")
            try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: garbage))
            let garbageError = #expect(throws: StoreError.self) { try Store.open(path: garbage) }
            #expect(garbageError?.code == .cannotOpen)
            #expect(garbageError?.message.contains(garbage) == true)
        }
    }

    @Test("meta values round-trip and can be replaced")
    func meta() throws {
        try withStore { store, _ in
            #expect(try store.read { tx in try tx.meta("missing") } == nil)
            try store.write { tx in
                try tx.setMeta("key", [])
                try tx.setMeta("other", [0xFF])
            }
            #expect(try store.read { tx in try tx.meta("key") } == [])
            try store.write { tx in try tx.setMeta("key", [9, 9]) }
            #expect(try store.read { tx in try tx.meta("key") } == [9, 9])
            #expect(try store.read { tx in try tx.meta("other") } == [0xFF])
        }
    }

    @Test("an object with every value kind, namespace and visibility round-trips")
    func objectRoundTrip() throws {
        let (state, _, _) = sampleState()
        try withStore { store, _ in
            #expect(try store.read { tx in try tx.loadObject(state.id) } == nil)
            try store.write { tx in try tx.saveObject(state, previous: nil) }
            let loaded = try #require(try store.read { tx in try tx.loadObject(state.id) })
            #expect(loaded == state)
            #expect(loaded.fields.count == 8)
            #expect(loaded.participants.count == 3)
            #expect(loaded.createNonce == state.createNonce)
        }
    }

    @Test("an object that does not exist yet (no create) is not saved")
    func unknownObjectNotSaved() throws {
        var rng = SplitMix64(seed: 2)
        let pending = ObjectState(id: ObjectID(raw: rng.id128()))
        try withStore { store, _ in
            try store.write { tx in try tx.saveObject(pending, previous: nil) }
            #expect(try store.read { tx in try tx.loadObject(pending.id) } == nil)
            #expect(try store.read { tx in try tx.objectList(type: nil) }.isEmpty)
        }
    }

    @Test("saving with `previous` writes only what changed, and the result equals the in-memory state")
    func incrementalSave() throws {
        let (first, owner, partners) = sampleState(seed: 3)
        var rng = SplitMix64(seed: 33)
        let replica = rng.replica()
        let newcomer = rng.company()
        func set(_ state: inout ObjectState, _ key: FieldKey, _ value: Value, at physical: UInt64) {
            state.apply(
                Operation(
                    object: state.id,
                    timestamp: Timestamp(physical: physical, counter: 0, replica: replica),
                    kind: .set(key, value, key.namespace == .joint ? .participants : .private)
                ),
                author: owner
            )
        }
        var second = first
        set(&second, FieldKey(.joint, "title"), .string("renamed"), at: 100)
        set(&second, FieldKey(.joint, "stage"), .string("qualified"), at: 101)
        second.apply(
            Operation(object: first.id, timestamp: Timestamp(physical: 102, counter: 0, replica: replica), kind: .addParticipant(newcomer)),
            author: owner
        )
        #expect(second != first)

        var third = second
        set(&third, FieldKey(.joint, "title"), .string("third title"), at: 200)
        set(&third, FieldKey(.company(owner), "min"), .integer(42), at: 201)

        try withStore { store, _ in
            try store.write { tx in try tx.saveObject(first, previous: nil) }
            try store.write { tx in try tx.saveObject(second, previous: first) }
            #expect(try store.read { tx in try tx.loadObject(first.id) } == second)

            // Claim (falsely) that "min" already holds its new value: the save must not rewrite it,
            // which shows that unchanged registers are skipped.
            var claimed = second
            set(&claimed, FieldKey(.company(owner), "min"), .integer(42), at: 201)
            try store.write { tx in try tx.saveObject(third, previous: claimed) }
            let partial = try #require(try store.read { tx in try tx.loadObject(first.id) })
            #expect(partial.fields[FieldKey(.joint, "title")]?.value == .string("third title"))
            #expect(partial.fields[FieldKey(.company(owner), "min")]?.value == .integer(.min))

            try store.write { tx in try tx.saveObject(third, previous: second) }
            #expect(try store.read { tx in try tx.loadObject(first.id) } == third)
            #expect(third.isParticipant(newcomer) && third.isParticipant(partners[1]))
        }
    }

    @Test("state survives closing and reopening the database")
    func survivesReopen() throws {
        let (state, _, _) = sampleState(seed: 4)
        let (other, _, _) = sampleState(seed: 5)
        try withTemporaryDirectory { directory in
            let path = directory.path("durable.sqlite")
            do {
                let store = try Store.open(path: path)
                try store.write { tx in
                    try tx.saveObject(state, previous: nil)
                    try tx.saveObject(other, previous: nil)
                }
            }
            let reopened = try Store.open(path: path)
            #expect(try reopened.read { tx in try tx.loadObject(state.id) } == state)
            #expect(try reopened.read { tx in try tx.loadObject(other.id) } == other)
            #expect(try reopened.integrityCheck().isEmpty)
        }
    }

    @Test("objects are listed by creation time, filtered by type, and found by id prefix")
    func objectList() throws {
        var rng = SplitMix64(seed: 6)
        let owner = rng.company()
        let replica = rng.replica()
        let specs: [(String, UInt64)] = [("lead", 30), ("opportunity", 10), ("opportunity", 20)]
        let states = specs.map { type, physical in
            let stamp = Timestamp(physical: physical, counter: 0, replica: replica)
            return ObjectState(
                id: ObjectID(raw: rng.id128()),
                type: type,
                owner: owner,
                created: stamp,
                createNonce: rng.bytes(16),
                participants: [owner: stamp],
                fields: [:]
            )
        }
        try withStore { store, _ in
            try store.write { tx in for state in states { try tx.saveObject(state, previous: nil) } }
            let all = try store.read { tx in try tx.objectList(type: nil) }
            #expect(all.map(\.id) == [states[1].id, states[2].id, states[0].id])
            #expect(all.allSatisfy { $0.owner == owner })
            let opportunities = try store.read { tx in try tx.objectList(type: "opportunity") }
            #expect(opportunities.map(\.id) == [states[1].id, states[2].id])
            #expect(try store.read { tx in try tx.objectList(type: "account") }.isEmpty)
            let prefix = String(states[0].id.hex.prefix(6))
            #expect(try store.read { tx in try tx.objectIDs(withPrefix: prefix.uppercased()) } == [states[0].id])
        }
    }
}
