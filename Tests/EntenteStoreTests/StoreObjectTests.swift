import EntenteCore
import EntenteStore
import EntenteTestSupport
import Foundation
import Testing

@Suite("Store: open and objects")
struct StoreObjectTests {
    /// An object with three participants and fields of every value kind, namespace and visibility.
    private func sampleState(seed: UInt64 = 1) -> (state: ObjectState, owner: CompanyID, partners: [CompanyID]) {
        var rng = SplitMix64(seed: seed)
        let owner = rng.company()
        let partners = [rng.company(), rng.company()]
        let replica = rng.replica()
        func stamp(_ physical: UInt64, _ counter: UInt32 = 0) -> Timestamp {
            Timestamp(physical: physical, counter: counter, replica: replica)
        }
        func field(_ value: Value, _ timestamp: Timestamp, _ visibility: Visibility, _ writer: CompanyID) -> FieldState
        {
            FieldState(Register(value: value, timestamp: timestamp, visibility: visibility, writer: writer))
        }
        let fields: [FieldKey: FieldState] = [
            FieldKey(.joint, "title"): field(.string("Büro ☕ 日本語"), stamp(10), .participants, owner),
            FieldKey(.joint, "empty"): field(.string(""), stamp(11), .participants, partners[0]),
            FieldKey(.joint, "cleared"): field(.null, stamp(12), .participants, partners[1]),
            FieldKey(.company(owner), "min"): field(.integer(.min), stamp(13, 7), .private, owner),
            FieldKey(.company(owner), "max"): field(
                .integer(.max),
                stamp(UInt64.max, UInt32.max),
                .companies([partners[0]]),
                owner
            ),
            FieldKey(.company(partners[0]), "flag"): field(.boolean(true), stamp(14), .participants, partners[0]),
            FieldKey(.company(partners[0]), "off"): field(.boolean(false), stamp(15), .companies([]), partners[0]),
            FieldKey(.company(partners[1]), "note"): field(
                .string("e\u{0301} 😀"),
                stamp(16),
                .companies([owner, partners[0]]),
                partners[1]
            ),
            FieldKey(.joint, "ratio"): field(
                .decimal(DecimalNumber("-0.000000000000000001")!),
                stamp(17),
                .participants,
                owner
            ),
            FieldKey(.company(owner), "amount"): field(
                .money(Money("1250000.00 USD")!),
                stamp(18),
                .companies([partners[1]]),
                owner
            ),
            FieldKey(.joint, "close_date"): field(
                .date(CalendarDate("2024-02-29")!),
                stamp(19),
                .participants,
                partners[0]
            ),
            FieldKey(.joint, "seen"): field(.timestamp(-86_400_001), stamp(20), .participants, owner),
            FieldKey(.joint, "stage"): field(.enumeration("qualified"), stamp(21), .participants, partners[1]),
            FieldKey(.company(partners[1]), "account"): field(
                .reference(rng.object()),
                stamp(22),
                .private,
                partners[1]
            ),
        ]
        let state = ObjectState(
            id: ObjectID(raw: rng.id128()),
            type: "opportunity",
            owner: owner,
            created: stamp(1),
            createNonce: rng.bytes(16),
            membership: [
                partners[0]: [MembershipEvent(timestamp: stamp(2), isMember: true)],
                partners[1]: [MembershipEvent(timestamp: stamp(3, 1), isMember: true)],
            ],
            archived: nil,
            fields: fields,
            sets: [:]
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
            #expect(loaded.fields.count == 14)
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
                    kind: .set(
                        key,
                        value,
                        key.namespace == .joint ? .participants : .private,
                        preds: state.fields[key]?.heads.map(\.timestamp) ?? []
                    )
                ),
                author: owner
            )
        }
        var second = first
        set(&second, FieldKey(.joint, "title"), .string("renamed"), at: 100)
        set(&second, FieldKey(.joint, "stage"), .string("qualified"), at: 101)
        second.apply(
            Operation(
                object: first.id,
                timestamp: Timestamp(physical: 102, counter: 0, replica: replica),
                kind: .addParticipant(newcomer)
            ),
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
            #expect(partial.fields[FieldKey(.joint, "title")]?.winner.value == .string("third title"))
            #expect(partial.fields[FieldKey(.company(owner), "min")]?.winner.value == .integer(.min))

            try store.write { tx in try tx.saveObject(third, previous: second) }
            #expect(try store.read { tx in try tx.loadObject(first.id) } == third)
            #expect(third.isParticipant(newcomer) && third.isParticipant(partners[1]))
        }
    }

    @Test("loadObjects with fields reads only those fields (namespace and name), sets with their elements, and the rest")
    func loadSomeFields() throws {
        let (sample, owner, partners) = sampleState(seed: 7)
        var rng = SplitMix64(seed: 77)
        let replica = rng.replica()
        let tags = FieldKey(.joint, "tags")
        let set = SetField(
            visibility: .participants,
            visibilityStamp: Timestamp(physical: 30, counter: 0, replica: replica),
            elements: [
                "north": ElementState(
                    adds: [replica: ElementMark(timestamp: Timestamp(physical: 30, counter: 0, replica: replica), writer: owner)]
                )
            ]
        )
        let state = ObjectState(
            id: sample.id,
            type: sample.type,
            owner: sample.owner,
            created: sample.created,
            createNonce: sample.createNonce,
            membership: sample.membership,
            archived: sample.archived,
            fields: sample.fields,
            sets: [tags: set, FieldKey(.company(partners[0]), "tags"): set]
        )
        let wanted: Set<FieldKey> = [FieldKey(.company(owner), "amount"), FieldKey(.joint, "stage"), tags]
        try withStore { store, _ in
            try store.write { tx in try tx.saveObject(state, previous: nil) }
            let some = try #require(try store.read { tx in try tx.loadObjects([state.id], fields: wanted) }[state.id])
            #expect(Set(some.fields.keys) == [FieldKey(.company(owner), "amount"), FieldKey(.joint, "stage")])
            #expect(some.fields[FieldKey(.joint, "stage")] == state.fields[FieldKey(.joint, "stage")])
            #expect(some.sets == [tags: set])
            #expect(some.membership == state.membership && some.owner == owner && some.type == state.type)
            #expect(some.createNonce == state.createNonce && some.created == state.created)
            let none = try store.read { tx in try tx.loadObjects([state.id], fields: []) }[state.id]
            #expect(none?.fields.isEmpty == true && none?.sets.isEmpty == true && none?.participants.count == 3)
            // A partial state merged and saved against its partial previous leaves the other fields as they were.
            var changed = some
            changed.apply(
                Operation(
                    object: state.id,
                    timestamp: Timestamp(physical: 40, counter: 0, replica: replica),
                    kind: .set(FieldKey(.joint, "stage"), .string("won"), .participants, preds: [])
                ),
                author: owner
            )
            try store.write { tx in try tx.saveObject(changed, previous: some) }
            let full = try #require(try store.read { tx in try tx.loadObject(state.id) })
            #expect(full.fields.count == state.fields.count && full.sets.count == 2)
            #expect(full.fields[FieldKey(.joint, "stage")] == changed.fields[FieldKey(.joint, "stage")])
            #expect(full.fields[FieldKey(.joint, "title")] == state.fields[FieldKey(.joint, "title")])
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
                membership: [:],
                archived: nil,
                fields: [:],
                sets: [:]
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
