import EntenteCore
import EntenteStore
import EntenteTestSupport
import EntenteWire
import Testing

/// An object worked by its owner and two partners, built by applying operations (so every part of the state
/// is one the core really produces): membership events (invite, remove, re-invite), the archive flag, a
/// field with two conflicting heads and a superseded write, and set fields with present and removed elements.
struct RichObject {
    let owner: CompanyID
    let a: CompanyID
    let b: CompanyID
    let ownerReplica: ReplicaID
    let aReplica: ReplicaID
    let bReplica: ReplicaID
    var state: ObjectState

    static let stage = FieldKey(.joint, "stage")
    static let tags = FieldKey(.joint, "tags")

    init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        owner = rng.company()
        a = rng.company()
        b = rng.company()
        ownerReplica = rng.replica()
        aReplica = rng.replica()
        bReplica = rng.replica()
        state = ObjectState(id: rng.object())
        apply(1, by: owner, .create(type: "opportunity", nonce: rng.bytes(16)))
        apply(2, by: owner, .addParticipant(a))
        apply(3, by: owner, .addParticipant(b))
        apply(4, by: owner, .removeParticipant(a))
        apply(5, by: owner, .addParticipant(a))  // re-invited
        apply(6, by: owner, .archive(true))
        // a and b write the stage concurrently; the owner had seen only a's write when it wrote.
        apply(10, by: a, .set(Self.stage, .enumeration("qualified"), .participants, preds: []))
        apply(11, by: b, .set(Self.stage, .string("prospect"), .participants, preds: []))
        apply(12, by: owner, .set(Self.stage, .enumeration("committed"), .participants, preds: [stamp(10, of: a)]))
        apply(13, by: a, .set(FieldKey(.company(a), "notes"), .string("call back"), .private, preds: []))
        apply(
            14,
            by: owner,
            .set(FieldKey(.company(owner), "amount"), .money(Money("1250000.00 USD")!), .companies([b]), preds: [])
        )
        // Tags: "vip" stays; "hot" is added by a and b, then removed by removes that had observed both adds;
        // "cold" is added and removed; "warm" is removed before a concurrent add it had not seen, so it stays.
        apply(15, by: owner, .addElement(Self.tags, "vip", .participants))
        apply(16, by: a, .addElement(Self.tags, "hot", .participants))
        apply(17, by: b, .addElement(Self.tags, "hot", .participants))
        apply(18, by: owner, .removeElement(Self.tags, "hot", observed: [stamp(16, of: a)], .participants))
        apply(
            19,
            by: b,
            .removeElement(Self.tags, "hot", observed: [stamp(16, of: a), stamp(17, of: b)], .participants)
        )
        apply(20, by: a, .addElement(Self.tags, "cold", .participants))
        apply(21, by: owner, .removeElement(Self.tags, "cold", observed: [stamp(20, of: a)], .participants))
        apply(22, by: b, .addElement(Self.tags, "warm", .participants))
        apply(23, by: owner, .removeElement(Self.tags, "warm", observed: [], .participants))
        apply(24, by: b, .addElement(FieldKey(.company(b), "regions"), "emea", .companies([owner])))
    }

    /// The object as its create alone made it (a rebuild that found nothing else).
    var created: ObjectState {
        var state = ObjectState(id: self.state.id)
        state.apply(
            Operation(
                object: state.id,
                timestamp: stamp(1, of: owner),
                kind: .create(type: "opportunity", nonce: self.state.createNonce)
            ),
            author: owner
        )
        return state
    }

    func replica(of company: CompanyID) -> ReplicaID {
        company == owner ? ownerReplica : company == a ? aReplica : bReplica
    }

    func stamp(_ physical: UInt64, of company: CompanyID) -> Timestamp {
        Timestamp(physical: physical, counter: 0, replica: replica(of: company))
    }

    mutating func apply(_ physical: UInt64, by company: CompanyID, _ kind: Operation.Kind) {
        let operation = Operation(object: state.id, timestamp: stamp(physical, of: company), kind: kind)
        state.apply(operation, author: company)
    }
}

@Suite("Store: membership, archive, conflicts, sets and envelope parts")
struct StoreStateTests {
    @Test("the sample object really has what the storage tests need")
    func sampleIsRich() throws {
        let object = RichObject(seed: 1)
        let state = object.state
        #expect(state.exists && state.isArchived)
        #expect(state.membership[object.a]?.map(\.isMember) == [true, false, true])
        #expect(state.membership[object.b]?.map(\.isMember) == [true])
        #expect(state.participants == [object.owner, object.a, object.b])
        let stage = try #require(state.fields[RichObject.stage])
        #expect(stage.heads.count == 2)
        #expect(stage.winner.value == .enumeration("committed"))
        #expect(stage.winner.preds == [object.stamp(10, of: object.a)])
        #expect(stage.conflicts.first?.value == .string("prospect"))
        #expect(stage.superseded == [object.stamp(10, of: object.a)])
        let tags = try #require(state.sets[RichObject.tags])
        #expect(tags.members == ["vip", "warm"])
        #expect(Set(tags.elements.keys) == ["vip", "hot", "cold", "warm"])
        #expect(state.sets[FieldKey(.company(object.b), "regions")]?.members == ["emea"])
    }

    @Test(
        "membership events, archive flag, conflicts, superseded marks and set elements round-trip, also after reopening"
    )
    func richRoundTrip() throws {
        let object = RichObject(seed: 1)
        try withTemporaryDirectory { directory in
            let path = directory.path("rich.sqlite")
            do {
                let store = try Store.open(path: path)
                try store.write { tx in try tx.saveObject(object.state, previous: nil) }
                let loaded = try #require(try store.read { tx in try tx.loadObject(object.state.id) })
                #expect(loaded == object.state)
                // Equality covers these, but name them so that a failure says which part was lost.
                #expect(loaded.membership == object.state.membership)
                #expect(
                    loaded.archived?.value == true && loaded.archived?.timestamp == object.stamp(6, of: object.owner)
                )
                #expect(loaded.fields[RichObject.stage] == object.state.fields[RichObject.stage])
                #expect(loaded.sets == object.state.sets)
            }
            let reopened = try Store.open(path: path)
            let loaded = try #require(try reopened.read { tx in try tx.loadObject(object.state.id) })
            #expect(loaded == object.state)
            #expect(loaded.participants == object.state.participants)
            #expect(loaded.isParticipant(object.a, at: object.stamp(4, of: object.owner).successor) == false)
            #expect(loaded.sets[RichObject.tags]?.members == ["vip", "warm"])
            #expect(try reopened.read { tx in try tx.conflictedObjects() } == [object.state.id])
            #expect(try reopened.integrityCheck().isEmpty)
        }
    }

    @Test("an incremental save records new membership events, a restore, a resolved conflict and a re-added element")
    func incrementalRichSave() throws {
        var object = RichObject(seed: 2)
        let first = object.state
        let stage = try #require(first.fields[RichObject.stage])
        object.apply(30, by: object.owner, .archive(false))
        object.apply(31, by: object.owner, .removeParticipant(object.b))
        object.apply(
            32,
            by: object.owner,
            .set(RichObject.stage, .enumeration("closed-won"), .participants, preds: stage.heads.map(\.timestamp))
        )
        object.apply(33, by: object.a, .addElement(RichObject.tags, "hot", .participants))
        object.apply(34, by: object.a, .addElement(RichObject.tags, "new", .participants))
        let second = object.state
        #expect(second.fields[RichObject.stage]?.heads.count == 1)
        #expect(!second.isArchived && second.archived != nil)
        #expect(second.sets[RichObject.tags]?.members == ["hot", "new", "vip", "warm"])
        try withStore { store, _ in
            try store.write { tx in try tx.saveObject(first, previous: nil) }
            #expect(try store.read { tx in try tx.conflictedObjects() } == [first.id])
            try store.write { tx in try tx.saveObject(second, previous: first) }
            let loaded = try #require(try store.read { tx in try tx.loadObject(first.id) })
            #expect(loaded == second)
            #expect(loaded.membership[object.b]?.map(\.isMember) == [true, false])
            #expect(loaded.archived?.value == false && loaded.archived?.timestamp == object.stamp(30, of: object.owner))
            #expect(try store.read { tx in try tx.conflictedObjects() }.isEmpty)
        }
    }

    @Test("archived objects can be left out of the object list")
    func archivedObjectsListed() throws {
        let archived = RichObject(seed: 3).state
        var restored = RichObject(seed: 4)
        restored.apply(40, by: restored.owner, .archive(false))
        try withStore { store, _ in
            try store.write { tx in
                try tx.saveObject(archived, previous: nil)
                try tx.saveObject(restored.state, previous: nil)
            }
            #expect(
                Set(try store.read { tx in try tx.objectList(type: nil) }.map(\.id)) == [
                    archived.id, restored.state.id,
                ]
            )
            #expect(
                try store.read { tx in try tx.objectList(type: nil, includeArchived: false) }.map(\.id) == [
                    restored.state.id
                ]
            )
            #expect(
                try store.read { tx in try tx.objectList(type: "opportunity", includeArchived: false) }.map(\.id) == [
                    restored.state.id
                ]
            )
        }
    }

    @Test("replaceObject writes exactly the new state, keeps the object's parts, and touches no other object")
    func replaceObject() throws {
        let doomed = RichObject(seed: 5)
        let kept = RichObject(seed: 6)
        var fixtureRNG = SplitMix64(seed: 60)
        let sender = try TestCompany(&fixtureRNG)
        let recipient = try TestCompany(&fixtureRNG)
        let replica = try sender.replica(&fixtureRNG)
        let first = try envelope(from: replica, to: [(recipient, 1)], payload: 1)
        let second = try envelope(from: replica, to: [(recipient, 2)], payload: 2)
        try withStore { store, _ in
            let (rowid, later) = try store.write { tx in
                try tx.saveObject(doomed.state, previous: nil)
                try tx.saveObject(kept.state, previous: nil)
                let rowid = try tx.logEnvelope(first)
                let later = try tx.logEnvelope(second)
                try tx.setPart(rowid, doomed.state.id, waiting: nil)
                try tx.setPart(later, doomed.state.id, waiting: "waiting for a participant")
                try tx.setPart(rowid, kept.state.id, waiting: nil)
                return (rowid, later)
            }
            #expect(Set(try store.read { tx in try tx.conflictedObjects() }) == [doomed.state.id, kept.state.id])

            // The rebuilt state (only the create) replaces every membership, field and set row.
            let rebuilt = doomed.created
            try store.write { tx in try tx.replaceObject(rebuilt) }
            let loaded = try #require(try store.read { tx in try tx.loadObject(doomed.state.id) })
            #expect(loaded == rebuilt)
            #expect(loaded.membership.isEmpty && loaded.fields.isEmpty && loaded.sets.isEmpty && loaded.archived == nil)
            #expect(try store.read { tx in try tx.loadObject(kept.state.id) } == kept.state)
            #expect(try store.read { tx in try tx.conflictedObjects() } == [kept.state.id])
            // The envelope log is not state: both parts stay, applied and waiting, in log order.
            let parts = try store.read { tx in try tx.parts(of: doomed.state.id) }
            #expect(parts.map(\.envelope) == [rowid, later])
            #expect(parts.map(\.waiting) == [nil, "waiting for a participant"])
            #expect(try store.read { tx in try tx.waitingParts() }.map(\.object) == [doomed.state.id])
        }
    }

    @Test("CRM ids follow the records: a changed id is found by its new value only, and goes with a rebuild or a delete")
    func crmIDsFollowRecords() throws {
        var object = RichObject(seed: 7)
        var other = RichObject(seed: 8)
        let crm = FieldKey(.company(object.owner), "crm_id")
        func find(_ tx: StoreTransaction, _ values: [String], in namespace: Namespace? = nil) throws -> [String: ObjectID] {
            try tx.objectIDs(of: "opportunity", crmIDsIn: namespace ?? crm.namespace, isOneOf: values)
        }
        try withStore { store, _ in
            let before = object.state
            object.apply(30, by: object.owner, .set(crm, .string("006A"), .private, preds: []))
            // Another company's crm_id is its own: the same value in its namespace names its object only.
            other.apply(30, by: other.owner, .set(FieldKey(.company(other.owner), "crm_id"), .string("006A"), .private, preds: []))
            try store.write { tx in
                try tx.saveObject(before, previous: nil)
                try tx.saveObject(object.state, previous: before)
                try tx.saveObject(other.state, previous: nil)
                #expect(try find(tx, ["006A", "006B"]) == ["006A": object.state.id])
                #expect(try find(tx, ["006A"], in: .company(other.owner)) == ["006A": other.state.id])
            }
            // A new value replaces the old one in the lookup, in the same transaction as the load it follows.
            try store.write { tx in
                let loaded = try #require(try tx.loadObjects([object.state.id], fields: [crm])[object.state.id])
                var changed = loaded
                changed.apply(
                    Operation(
                        object: object.state.id,
                        timestamp: object.stamp(31, of: object.owner),
                        kind: .set(crm, .string("006B"), .private, preds: [object.stamp(30, of: object.owner)])
                    ),
                    author: object.owner
                )
                try tx.saveObject(changed, previous: loaded)
                #expect(try find(tx, ["006A", "006B"]) == ["006B": object.state.id])
                // The partial load and save kept every other field of the record.
                let whole = try #require(try tx.loadObject(object.state.id))
                #expect(whole.fields[RichObject.stage] == object.state.fields[RichObject.stage])
                #expect(whole.fields[crm]?.winner.value == .string("006B"))
                // A rebuild without the field takes its key with it, and a save after it (the transaction's copy
                // of the record dropped) writes over the rebuilt record, not the one loaded before.
                let rebuilt = object.created
                try tx.replaceObject(rebuilt)
                #expect(try find(tx, ["006A", "006B"]).isEmpty)
                var note = rebuilt
                note.apply(
                    Operation(
                        object: object.state.id,
                        timestamp: object.stamp(40, of: object.owner),
                        kind: .set(FieldKey(.joint, "title"), .string("After"), .participants, preds: [])
                    ),
                    author: object.owner
                )
                try tx.saveObject(note, previous: loaded)
                #expect(try tx.loadObject(object.state.id)?.fields.keys.sorted() == [FieldKey(.joint, "title")])
            }
            try store.write { tx in try tx.deleteObject(other.state.id) }
            let (found, orphans) = try store.read { tx in
                (try find(tx, ["006A"], in: .company(other.owner)), try tx.orphanStateRows())
            }
            #expect(found.isEmpty && orphans.isEmpty)
        }
    }

    @Test("objects(_:withFieldsIn:) finds the objects with a scalar or set field in a namespace, and no others")
    func objectsWithFieldsInANamespace() throws {
        // In each object, a has a scalar field of its own and b a set field of its own.
        let first = RichObject(seed: 83)
        let second = RichObject(seed: 84)
        let stranger = CompanyID(bytes: [UInt8](repeating: 0xEE, count: 16))!
        let unknown = ObjectID(bytes: [UInt8](repeating: 0xCD, count: 16))!
        try withStore { store, _ in
            try store.write { tx in
                try tx.saveObject(first.state, previous: nil)
                try tx.saveObject(second.state, previous: nil)
            }
            let ids = [first.state.id, second.state.id, unknown]
            func holding(_ namespace: Namespace, _ ids: [ObjectID]) throws -> Set<ObjectID> {
                try store.read { tx in try tx.objects(ids, withFieldsIn: namespace) }
            }
            #expect(try holding(.company(first.a), ids) == [first.state.id])
            #expect(try holding(.company(second.b), ids) == [second.state.id])
            #expect(try holding(.company(stranger), ids) == [])
            #expect(try holding(.joint, ids) == [first.state.id, second.state.id])
            // More than one chunk of 500 ids.
            let many = Array(repeating: unknown, count: 600) + [second.state.id]
            #expect(try holding(.company(second.b), many) == [second.state.id])
        }
    }

    @Test("a part moves between applied and waiting, and is never in both")
    func partStatusMoves() throws {
        let object = RichObject(seed: 7)
        var fixtureRNG = SplitMix64(seed: 61)
        let sender = try TestCompany(&fixtureRNG)
        let recipient = try TestCompany(&fixtureRNG)
        let replica = try sender.replica(&fixtureRNG)
        let logged = try envelope(from: replica, to: [(recipient, 1)], payload: 1)
        let unknown = ObjectID(bytes: [UInt8](repeating: 0xAB, count: 16))!
        try withStore { store, _ in
            let rowid = try store.write { tx in
                let rowid = try tx.logEnvelope(logged)
                // A part for an object that has not arrived waits (it has no handle yet).
                try tx.setPart(rowid, unknown, waiting: "object not received yet")
                try tx.setPart(rowid, object.state.id, waiting: "waiting for a participant")
                return rowid
            }
            #expect(try store.read { tx in try tx.waitingParts(of: [object.state.id]) }.map(\.envelope) == [rowid])
            #expect(try store.read { tx in try tx.parts(of: unknown) }.map(\.waiting) == ["object not received yet"])
            // Applying a part needs the object's row.
            #expect(throws: StoreError.self) { try store.write { tx in try tx.setPart(rowid, unknown, waiting: nil) } }

            try store.write { tx in
                try tx.saveObject(object.state, previous: nil)
                try tx.setPart(rowid, object.state.id, waiting: nil)
            }
            #expect(try store.read { tx in try tx.waitingParts(of: [object.state.id]) }.isEmpty)
            #expect(try store.read { tx in try tx.parts(of: object.state.id) }.map(\.waiting) == [nil])
            #expect(try store.read { tx in try tx.allParts() }.map(\.isWaiting).sorted { !$0 && $1 } == [false, true])

            // Back to waiting (a rebuild found it invalid): one row, waiting, with the new reason.
            try store.write { tx in try tx.setPart(rowid, object.state.id, waiting: "removed meanwhile") }
            #expect(try store.read { tx in try tx.parts(of: object.state.id) }.map(\.waiting) == ["removed meanwhile"])
            #expect(try store.read { tx in try tx.allParts() }.count == 2)
        }
    }

    @Test("conflictedObjects lists exactly the objects with a field holding several heads, once each")
    func conflictedObjects() throws {
        var rng = SplitMix64(seed: 70)
        let owner = rng.company()
        let partner = rng.company()
        let (r1, r2) = (rng.replica(), rng.replica())
        func created() -> ObjectState {
            var state = ObjectState(id: rng.object())
            state.apply(
                Operation(
                    object: state.id,
                    timestamp: Timestamp(physical: 1, counter: 0, replica: r1),
                    kind: .create(type: "opportunity", nonce: rng.bytes(16))
                ),
                author: owner
            )
            state.apply(
                Operation(
                    object: state.id,
                    timestamp: Timestamp(physical: 2, counter: 0, replica: r1),
                    kind: .addParticipant(partner)
                ),
                author: owner
            )
            return state
        }
        func write(
            _ state: inout ObjectState,
            _ key: FieldKey,
            _ physical: UInt64,
            _ replica: ReplicaID,
            by company: CompanyID,
            preds: [Timestamp]
        ) {
            let visibility: Visibility = key.namespace == .joint ? .participants : .private
            let kind = Operation.Kind.set(key, .integer(Int64(physical)), visibility, preds: preds)
            state.apply(
                Operation(
                    object: state.id,
                    timestamp: Timestamp(physical: physical, counter: 0, replica: replica),
                    kind: kind
                ),
                author: company
            )
        }
        let title = FieldKey(.joint, "title")
        let stage = FieldKey(.joint, "stage")
        // Two conflicted joint fields on one object: listed once.
        var twoConflicts = created()
        for key in [title, stage] {
            write(&twoConflicts, key, 10, r1, by: owner, preds: [])
            write(&twoConflicts, key, 11, r2, by: partner, preds: [])
        }
        // A field written in sequence (the second write saw the first): one head, not a conflict.
        var sequential = created()
        write(&sequential, title, 10, r1, by: owner, preds: [])
        write(&sequential, title, 11, r2, by: partner, preds: [Timestamp(physical: 10, counter: 0, replica: r1)])
        // No fields at all.
        let empty = created()
        // A conflict in a company's own namespace, between two replicas of that company.
        var companyConflict = created()
        let notes = FieldKey(.company(owner), "notes")
        write(&companyConflict, notes, 10, r1, by: owner, preds: [])
        write(&companyConflict, notes, 11, r2, by: owner, preds: [])
        #expect(twoConflicts.fields[title]?.heads.count == 2 && companyConflict.fields[notes]?.heads.count == 2)
        #expect(sequential.fields[title]?.heads.count == 1 && sequential.fields[title]?.superseded.isEmpty == false)

        try withStore { store, _ in
            try store.write { tx in
                for state in [twoConflicts, sequential, empty, companyConflict] {
                    try tx.saveObject(state, previous: nil)
                }
            }
            let listed = try store.read { tx in try tx.conflictedObjects() }
            #expect(listed.count == 2)
            #expect(Set(listed) == [twoConflicts.id, companyConflict.id])

            // Resolving one field of two leaves the object conflicted; resolving both clears it.
            var resolved = twoConflicts
            let titleHeads = resolved.fields[title]?.heads.map(\.timestamp) ?? []
            write(&resolved, title, 20, r1, by: owner, preds: titleHeads)
            try store.write { tx in try tx.saveObject(resolved, previous: twoConflicts) }
            #expect(Set(try store.read { tx in try tx.conflictedObjects() }) == [twoConflicts.id, companyConflict.id])
            let halfway = resolved
            let stageHeads = resolved.fields[stage]?.heads.map(\.timestamp) ?? []
            write(&resolved, stage, 21, r1, by: owner, preds: stageHeads)
            try store.write { tx in try tx.saveObject(resolved, previous: halfway) }
            #expect(try store.read { tx in try tx.conflictedObjects() } == [companyConflict.id])
            #expect(try store.read { tx in try tx.loadObject(twoConflicts.id) } == resolved)
        }
    }

    @Test("setPart, parts(of:) and waitingParts round-trip statuses and notes, in log order")
    func envelopeParts() throws {
        var rng = SplitMix64(seed: 80)
        let sender = try TestCompany(&rng)
        let recipient = try TestCompany(&rng)
        let replica = try sender.replica(&rng)
        let envelopes = try (1...3).map {
            try envelope(from: replica, to: [(recipient, UInt64($0))], payload: UInt64($0))
        }
        // Applied parts are keyed by the object's handle: x and y are stored, z is not.
        let (stateX, stateY) = (RichObject(seed: 81).state, RichObject(seed: 82).state)
        let (x, y, z) = (stateX.id, stateY.id, rng.object())
        try withStore { store, _ in
            let rows = try store.write { tx in
                try tx.saveObject(stateX, previous: nil)
                try tx.saveObject(stateY, previous: nil)
                return try envelopes.map { try tx.logEnvelope($0) }
            }
            #expect(rows == rows.sorted() && Set(rows).count == 3)
            // Recorded out of log order, to show the listing sorts by the log.
            try store.write { tx in
                try tx.setPart(rows[2], x, waiting: "")  // waiting with an empty note is still waiting
                try tx.setPart(rows[2], y, waiting: nil)
                try tx.setPart(rows[0], y, waiting: "object \(y.short) has not been received yet")
                try tx.setPart(rows[0], x, waiting: nil)
                try tx.setPart(rows[1], x, waiting: "company was not a participant — ünïcödé ☕")
            }
            let xParts = try store.read { tx in try tx.parts(of: x) }
            #expect(xParts.map(\.envelope) == rows)
            #expect(xParts.map(\.waiting) == [nil, "company was not a participant — ünïcödé ☕", ""])
            #expect(xParts.map(\.bytes) == envelopes.map(\.bytes))
            #expect(xParts.allSatisfy { $0.object == x })
            let yParts = try store.read { tx in try tx.parts(of: y) }
            #expect(yParts.map(\.envelope) == [rows[0], rows[2]])
            #expect(yParts.map(\.waiting) == ["object \(y.short) has not been received yet", nil])
            #expect(try store.read { tx in try tx.parts(of: z) }.isEmpty)

            let waiting = try store.read { tx in try tx.waitingParts() }
            #expect(waiting.map(\.envelope) == [rows[0], rows[1], rows[2]])
            #expect(waiting.map(\.object) == [y, x, x])
            #expect(
                waiting.map(\.waiting) == [
                    "object \(y.short) has not been received yet", "company was not a participant — ünïcödé ☕", "",
                ]
            )
            #expect(waiting.map(\.bytes) == envelopes.map(\.bytes))

            // Updating a part replaces its status and note; it is never duplicated.
            try store.write { tx in
                try tx.setPart(rows[1], x, waiting: nil)
                try tx.setPart(rows[2], y, waiting: "rebuilt: writer removed")
            }
            #expect(try store.read { tx in try tx.parts(of: x) }.map(\.waiting) == [nil, nil, ""])
            #expect(
                try store.read { tx in try tx.parts(of: y) }.map(\.waiting) == [
                    "object \(y.short) has not been received yet", "rebuilt: writer removed",
                ]
            )
            let after = try store.read { tx in try tx.waitingParts() }
            #expect(after.map(\.envelope) == [rows[0], rows[2], rows[2]])
            #expect(Set(after.filter { $0.envelope == rows[2] }.map(\.object)) == [x, y])
        }
    }

    @Test("parts survive reopening the store")
    func partsSurviveReopen() throws {
        var rng = SplitMix64(seed: 81)
        let sender = try TestCompany(&rng)
        let recipient = try TestCompany(&rng)
        let replica = try sender.replica(&rng)
        let logged = try envelope(from: replica, to: [(recipient, 1)], payload: 1)
        let object = rng.object()
        try withTemporaryDirectory { directory in
            let path = directory.path("parts.sqlite")
            let rowid = try Store.open(path: path).write { tx in
                let rowid = try tx.logEnvelope(logged)
                try tx.setPart(rowid, object, waiting: "later")
                return rowid
            }
            let reopened = try Store.open(path: path)
            let parts = try reopened.read { tx in try tx.waitingParts() }
            #expect(parts.map(\.envelope) == [rowid])
            #expect(
                parts.first?.object == object && parts.first?.waiting == "later" && parts.first?.bytes == logged.bytes
            )
        }
    }

    /// Set elements come from partners and may hold any UTF-8 (only their length is checked), so the store
    /// must keep every byte of them.
    @Test("set elements with control characters and combining marks round-trip byte for byte")
    func elementBytes() throws {
        var object = RichObject(seed: 9)
        for (offset, element) in ["tab\there", "e\u{0301}", "\u{1F}", "😀👩‍👩‍👧", String(repeating: "é", count: 512)]
            .enumerated()
        {
            object.apply(50 + UInt64(offset), by: object.a, .addElement(RichObject.tags, element, .participants))
        }
        try withStore { store, _ in
            try store.write { tx in try tx.saveObject(object.state, previous: nil) }
            let loaded = try #require(try store.read { tx in try tx.loadObject(object.state.id) })
            let keys = loaded.sets[RichObject.tags].map { Set($0.elements.keys.map { Array($0.utf8) }) } ?? []
            #expect(keys == Set(object.state.sets[RichObject.tags]!.elements.keys.map { Array($0.utf8) }))
            #expect(loaded == object.state)
        }
    }

    @Test(
        "set elements containing U+0000 round-trip"
    )
    func elementWithNUL() throws {
        var object = RichObject(seed: 10)
        for (offset, element) in ["a\u{0}b", "a\u{0}c", "\u{0}"].enumerated() {
            object.apply(50 + UInt64(offset), by: object.a, .addElement(RichObject.tags, element, .participants))
        }
        try withStore { store, _ in
            try store.write { tx in try tx.saveObject(object.state, previous: nil) }
            let loaded = try #require(try store.read { tx in try tx.loadObject(object.state.id) })
            let keys = loaded.sets[RichObject.tags].map { Set($0.elements.keys.map { Array($0.utf8) }) } ?? []
            #expect(keys == Set(object.state.sets[RichObject.tags]!.elements.keys.map { Array($0.utf8) }))
            #expect(loaded == object.state)
        }
    }
}

extension Timestamp {
    /// The next timestamp of the same replica (one counter step later).
    fileprivate var successor: Timestamp { Timestamp(physical: physical, counter: counter + 1, replica: replica) }
}
