import EntenteCore
import EntenteTestSupport
import Testing

@Suite struct AuthorityTests {
    let owner = RandomHistory.companies[0]
    let partner = RandomHistory.companies[1]
    let outsider = RandomHistory.companies[3]
    let object = ObjectID(raw: ID128(high: 7, low: 7))

    func stamp(_ time: UInt64, _ company: Int = 0) -> Timestamp {
        Timestamp(physical: time, counter: 0, replica: RandomHistory.replicas[company])
    }

    func created() -> ObjectState {
        var state = ObjectState(id: object)
        let create = Operation(object: object, timestamp: stamp(10), kind: .create(type: "opportunity", nonce: [1]))
        #expect(state.decide(create, author: owner) == .apply)
        state.apply(create, author: owner)
        return state
    }

    @Test func writesBeforeTheObjectArrivesWait() {
        let state = ObjectState(id: object)
        let write = Operation(
            object: object,
            timestamp: stamp(20),
            kind: .set(FieldKey(.joint, "title"), .string("x"), .participants, preds: [])
        )
        guard case .wait = state.decide(write, author: owner) else {
            Issue.record("expected wait, got \(state.decide(write, author: owner))")
            return
        }
    }

    @Test func aCompanyCannotWriteAnotherCompanysNamespace() {
        let state = created()
        let forged = Operation(
            object: object,
            timestamp: stamp(20, 1),
            kind: .set(FieldKey(.company(owner), "deal_size"), .integer(1), .private, preds: [])
        )
        guard case .reject(let error) = state.decide(forged, author: partner) else {
            Issue.record("forged namespace write was not rejected")
            return
        }
        #expect(error.code == .foreignNamespace)
    }

    @Test func onlyTheOwnerChangesMembership() {
        let state = created()
        let invite = Operation(object: object, timestamp: stamp(20, 1), kind: .addParticipant(outsider))
        guard case .reject(let error) = state.decide(invite, author: partner) else {
            Issue.record("non-owner invite was not rejected")
            return
        }
        #expect(error.code == .notOwner)
        #expect(state.decide(invite, author: owner) == .apply)
    }

    @Test func nonParticipantsWaitAndParticipantsWrite() {
        var state = created()
        let write = Operation(
            object: object,
            timestamp: stamp(30, 1),
            kind: .set(FieldKey(.joint, "stage"), .string("qualified"), .participants, preds: [])
        )
        guard case .wait = state.decide(write, author: partner) else {
            Issue.record("write by a non-participant should wait for its invitation")
            return
        }
        state.apply(Operation(object: object, timestamp: stamp(20), kind: .addParticipant(partner)), author: owner)
        #expect(state.decide(write, author: partner) == .apply)
    }

    @Test func writesDatedBeforeTheKnownInvitationWaitForAnEarlierOne() {
        var state = created()
        state.apply(Operation(object: object, timestamp: stamp(50), kind: .addParticipant(partner)), author: owner)
        let early = Operation(
            object: object,
            timestamp: stamp(40, 1),
            kind: .set(FieldKey(.joint, "stage"), .string("won"), .participants, preds: [])
        )
        guard case .wait = state.decide(early, author: partner) else {
            Issue.record("a write dated before the known invitation must wait (an earlier invitation may arrive)")
            return
        }
        state.apply(Operation(object: object, timestamp: stamp(30), kind: .addParticipant(partner)), author: owner)
        #expect(state.decide(early, author: partner) == .apply)
    }

    @Test func aSecondCreateByAnotherCompanyIsRejected() {
        let state = created()
        let hijack = Operation(object: object, timestamp: stamp(11, 1), kind: .create(type: "opportunity", nonce: [1]))
        guard case .reject(let error) = state.decide(hijack, author: partner) else {
            Issue.record("hijacking create was not rejected")
            return
        }
        #expect(error.code == .conflictingCreate)
        let replay = Operation(object: object, timestamp: stamp(10), kind: .create(type: "opportunity", nonce: [1]))
        #expect(state.decide(replay, author: owner) == .apply)
    }

    @Test func jointFieldsMustBeVisibleToAllAndNamesMustBeValid() {
        let state = created()
        let narrowed = Operation(
            object: object,
            timestamp: stamp(20),
            kind: .set(FieldKey(.joint, "title"), .string("x"), .private, preds: [])
        )
        guard case .reject = state.decide(narrowed, author: owner) else {
            Issue.record("a private joint field was accepted")
            return
        }
        for bad in ["", String(repeating: "x", count: 129), "a\nb"] {
            let operation = Operation(
                object: object,
                timestamp: stamp(20),
                kind: .set(FieldKey(.joint, bad), .null, .participants, preds: [])
            )
            guard case .reject(let error) = state.decide(operation, author: owner) else {
                Issue.record("invalid name \(bad.debugDescription) accepted")
                continue
            }
            #expect(error.code == .invalidName)
        }
    }

    @Test func audiencesFollowVisibility() {
        var state = created()
        let third = RandomHistory.companies[2]
        state.apply(Operation(object: object, timestamp: stamp(20), kind: .addParticipant(partner)), author: owner)
        state.apply(Operation(object: object, timestamp: stamp(21), kind: .addParticipant(third)), author: owner)
        let own = FieldKey(.company(partner), "rate")
        #expect(state.audience(of: own, visibility: .private) == [partner])
        #expect(state.audience(of: own, visibility: .participants) == [owner, partner, third])
        #expect(state.audience(of: own, visibility: .companies([owner])) == [owner, partner])
        #expect(
            state.audience(of: own, visibility: .companies([outsider])) == [partner],
            "non-participants never join an audience"
        )
        #expect(state.audience(of: FieldKey(.joint, "title"), visibility: .participants) == [owner, partner, third])
    }

    @Test func snapshotsCarryOnlyWhatTheNewcomerMayRead() {
        var state = created()
        let third = RandomHistory.companies[2]
        state.apply(Operation(object: object, timestamp: stamp(20), kind: .addParticipant(partner)), author: owner)
        let writes: [(FieldKey, Visibility, Int)] = [
            (FieldKey(.joint, "title"), .participants, 0),
            (FieldKey(.company(owner), "deal_size"), .private, 0),
            (FieldKey(.company(owner), "region"), .participants, 0),
            (FieldKey(.company(owner), "rate"), .companies([partner]), 0),
            (FieldKey(.company(partner), "margin"), .private, 1),
            (FieldKey(.company(partner), "delivery"), .participants, 1),
        ]
        for (offset, write) in writes.enumerated() {
            let author = RandomHistory.companies[write.2]
            state.apply(
                Operation(
                    object: object,
                    timestamp: stamp(30 + UInt64(offset), write.2),
                    kind: .set(write.0, .string("v"), write.1, preds: [])
                ),
                author: author
            )
        }
        state.apply(Operation(object: object, timestamp: stamp(40), kind: .addParticipant(third)), author: owner)
        let snapshot = state.snapshot(for: third)
        let snapshotFields = Set(
            (snapshot.ownership + snapshot.relayed).compactMap { operation -> String? in
                if case .set(let key, _, _, _) = operation.kind { return key.name }
                return nil
            }
        )
        #expect(snapshotFields == ["title", "region"])
        let resent = state.reemission(of: partner, for: third).compactMap { operation -> String? in
            if case .set(let key, _, _, _) = operation.kind { return key.name }
            return nil
        }
        #expect(resent == ["delivery"])
    }

    /// A part's refusal does not depend on what else has arrived: a refused operation behind one that waits
    /// refuses the part at once, and `Merge.refusal` tells so from the part and the create alone.
    @Test func aRefusalBehindAWaitRefusesThePartAtOnce() {
        let state = created()
        let waiting = Operation(
            object: object,
            timestamp: stamp(30, 1),
            kind: .set(FieldKey(.joint, "stage"), .string("won"), .participants, preds: [])
        )
        let invite = Operation(object: object, timestamp: stamp(31, 1), kind: .addParticipant(outsider))
        // The write alone waits for the partner's invitation; with the non-owner's invite behind it, refused.
        let alone = Batch(author: partner, operations: [waiting])
        #expect(Merge.refusal(of: alone, creation: state.creation) == nil)
        var unchanged = [object: state]
        guard case .merged(let result) = Merge.apply(alone, to: &unchanged) else {
            Issue.record("a write by a non-participant should wait, not be refused")
            return
        }
        #expect(result.waiting[object] != nil)
        let part = Batch(author: partner, operations: [waiting, invite])
        #expect(Merge.refusal(of: part, creation: state.creation)?.code == .notOwner)
        var states = [object: state]
        guard case .reject(let error) = Merge.apply(part, to: &states) else {
            Issue.record("an invitation by a non-owner behind a waiting write was not refused")
            return
        }
        #expect(error.code == .notOwner)
        // Before the create is known nothing is refused: the part waits, and nothing of it applies.
        #expect(Merge.refusal(of: part, creation: nil) == nil)
        // A create in the part counts for the operations after it; a second create of another type conflicts.
        let create = Operation(object: object, timestamp: stamp(5, 1), kind: .create(type: "lead", nonce: [2]))
        let own = Batch(author: partner, operations: [create, invite])
        #expect(Merge.refusal(of: own, creation: nil) == nil)
        #expect(Merge.refusal(of: own, creation: state.creation)?.code == .conflictingCreate)
        // A nonce bound by the id (nil) agrees with any nonce of the same owner and type.
        let same = Batch(author: owner, operations: [
            Operation(object: object, timestamp: stamp(10), kind: .create(type: "opportunity", nonce: [9]))
        ])
        #expect(Merge.refusal(of: same, creation: state.creation)?.code == .conflictingCreate)
        #expect(Merge.refusal(of: same, creation: Creation(owner: owner, type: "opportunity", nonce: nil)) == nil)
    }
}
