/// The operations of one envelope, with the company whose replica signed it.
public struct Batch: Hashable, Sendable {
    /// The company whose replica signed the envelope.
    public var author: CompanyID
    /// The operations, in order.
    public var operations: [Operation]

    /// Creates a batch.
    public init(author: CompanyID, operations: [Operation]) {
        self.author = author
        self.operations = operations
    }

    /// The objects the batch touches, in first-seen order.
    public var objects: [ObjectID] {
        var seen = Set<ObjectID>()
        return operations.compactMap { seen.insert($0.object).inserted ? $0.object : nil }
    }

    /// The batch's operations on one object: the unit that is merged all or nothing.
    public func part(_ object: ObjectID) -> Batch {
        Batch(author: author, operations: operations.filter { $0.object == object })
    }

    /// Every object's part, in first-seen order, grouped in one pass (a batch may touch thousands of objects).
    public var parts: [(object: ObjectID, part: Batch)] {
        var index: [ObjectID: Int] = [:]
        var result: [(object: ObjectID, part: Batch)] = []
        for operation in operations {
            if let position = index[operation.object] {
                result[position].part.operations.append(operation)
            } else {
                index[operation.object] = result.count
                result.append((operation.object, Batch(author: author, operations: [operation])))
            }
        }
        return result
    }

    /// The first static refusal among the operations (`Operation.validate`), if any.
    func validationError() -> AuthorityError? {
        for operation in operations {
            if let error = operation.validate(author: author) { return error }
        }
        return nil
    }
}

/// An object's create, once applied: who owns the object, its type and its create's nonce.
public struct Creation: Hashable, Sendable {
    /// The owning company (the create's signer).
    public var owner: CompanyID
    /// The object's type.
    public var type: String
    /// The create's nonce, or nil when it is not known but bound by the object's id: a receiver opens an envelope
    /// only if each create's object id derives from its signer and nonce (`Specs/envelope.md`), so two creates of
    /// one id by one owner carry one nonce.
    public var nonce: [UInt8]?

    /// Creates a creation.
    public init(owner: CompanyID, type: String, nonce: [UInt8]?) {
        self.owner = owner
        self.type = type
        self.nonce = nonce
    }

    /// True if a create with `nonce` agrees with this one's nonce (or the nonce is bound by the id).
    func matches(nonce other: [UInt8]) -> Bool { nonce.map { $0 == other } ?? true }
}

/// What merging a batch did.
public struct MergeResult: Hashable, Sendable {
    /// Objects whose visible state changed.
    public var changed: Set<ObjectID> = []
    /// Objects whose part of the batch waits for an operation it depends on, with the reason.
    public var waiting: [ObjectID: String] = [:]
    /// Objects where a removal was recorded: rebuild them from their logged parts (`Merge.rebuild`).
    public var rebuild: Set<ObjectID> = []

    /// Creates an empty result.
    public init() {}
}

/// The result of merging one batch.
public enum BatchOutcome: Hashable, Sendable {
    /// Parts were applied or wait (see the result); nothing was refused.
    case merged(MergeResult)
    /// Nothing was applied: an operation is refused for good.
    case reject(AuthorityError)
}

/// Merges batches into object states. Pure and deterministic.
///
/// A batch's operations on one object (its *part* for that object) are applied all together or not at all.
/// A refused operation refuses the whole batch. A part that depends on something not yet received waits.
public enum Merge {
    /// Merges `batch` into `states`. Objects missing from `states` are treated as not yet known.
    public static func apply(_ batch: Batch, to states: inout [ObjectID: ObjectState]) -> BatchOutcome {
        apply(batch, parts: batch.parts, to: &states)
    }

    /// `apply` with the batch's `parts` already grouped (a caller that needs them too groups them once).
    public static func apply(
        _ batch: Batch,
        parts: [(object: ObjectID, part: Batch)],
        to states: inout [ObjectID: ObjectState]
    ) -> BatchOutcome {
        if let error = batch.validationError() { return .reject(error) }
        var result = MergeResult()
        var updated: [ObjectID: ObjectState] = [:]
        for (object, part) in parts {
            if let error = mixingError(part) { return .reject(error) }
            var state = states[object] ?? ObjectState(id: object)
            switch applyPart(part, to: &state) {
            case .reject(let error): return .reject(error)
            case .wait(let reason): result.waiting[object] = reason
            case .apply(let effect):
                if effect.changed { result.changed.insert(object) }
                if effect.removal { result.rebuild.insert(object) }
                updated[object] = state
            }
        }
        for (object, state) in updated { states[object] = state }
        return .merged(result)
    }

    /// A part that changes ownership-level state (create, membership, archive) may only carry the signer's
    /// own writes, so that membership never depends on another company's validity.
    static func mixingError(_ part: Batch) -> AuthorityError? {
        guard part.operations.contains(where: \.isOwnerOperation),
            part.operations.contains(where: { ($0.writer ?? part.author) != part.author })
        else { return nil }
        return AuthorityError(.notOwner, "an envelope may not mix membership changes with re-sent writes")
    }

    /// What merging `batch` would do as far as refusals go, decided without the objects' states: `creation`
    /// gives each object's create as known before the batch (nil: not received yet). Returns the refusal, if the
    /// batch would be refused, or else the creates it makes of objects not received before it. For any states,
    /// `check(batch) { states[$0]?.creation }` refuses exactly when `apply(batch, to: &states)` does, with the
    /// same error (a bundle import checks a whole bundle this way before its first write).
    public static func check(
        _ batch: Batch,
        parts: [(object: ObjectID, part: Batch)],
        creation: (ObjectID) -> Creation?
    ) -> Result<[ObjectID: Creation], AuthorityError> {
        if let error = batch.validationError() { return .failure(error) }
        var made: [ObjectID: Creation] = [:]
        for (object, part) in parts {
            if let error = mixingError(part) { return .failure(error) }
            if let known = creation(object) {
                if let error = refusal(of: part, creation: known) { return .failure(error) }
                continue
            }
            // An object not received yet: its part is decided on its own, as `apply` would merge it.
            var state = ObjectState(id: object)
            switch applyPart(part, to: &state, values: false) {
            case .reject(let error): return .failure(error)
            case .wait: break
            case .apply: made[object] = state.creation
            }
        }
        return .success(made)
    }

    /// Why `part` is refused for good, if it is, given the object's create as known before the part (nil: not
    /// received yet). Besides the part's own operations, a refusal depends only on the create, which never
    /// changes once known, so anyone who knows the create can tell whether a part will be refused without
    /// merging it (a bundle import checks a whole bundle this way before its first write). The part's own
    /// create, if the object had none, counts for the operations after it. The caller has validated the part.
    public static func refusal(of part: Batch, creation: Creation?) -> AuthorityError? {
        var creation = creation
        for operation in part.operations {
            if let error = refusal(of: operation, author: part.author, creation: creation, id: operation.object) {
                return error
            }
            if creation == nil, case .create(let type, let nonce) = operation.kind {
                creation = Creation(owner: part.author, type: type, nonce: nonce)
            }
        }
        return nil
    }

    /// The refusal rules that depend on the object's create (`Specs/crdt.md`, "Validity and authority").
    static func refusal(
        of operation: Operation,
        author: CompanyID,
        creation: Creation?,
        id: ObjectID
    ) -> AuthorityError? {
        guard let creation else { return nil }
        let owner = creation.owner
        switch operation.kind {
        case .create(let type, let nonce):
            guard owner != author || creation.type != type || !creation.matches(nonce: nonce) else { return nil }
            return AuthorityError(.conflictingCreate, "object \(id.short) already exists with another owner or type")
        case .addParticipant(let company), .removeParticipant(let company):
            guard owner == author else {
                return AuthorityError(.notOwner, "only the owner \(owner.short) may change who takes part in \(id.short)")
            }
            guard company != owner else {
                return AuthorityError(.notOwner, "the owner of \(id.short) cannot invite or remove itself")
            }
            return nil
        case .archive:
            guard owner == author else {
                return AuthorityError(.notOwner, "only the owner \(owner.short) may archive \(id.short)")
            }
            return nil
        case .set, .addElement, .removeElement:
            guard (operation.writer ?? author) == author || author == owner else {
                return AuthorityError(.notOwner, "only the owner may re-send another company's writes to \(id.short)")
            }
            return nil
        }
    }

    enum PartOutcome {
        case apply(ObjectState.Effect)
        case wait(String)
        case reject(AuthorityError)
    }

    /// Checks the state-dependent rules and applies one part in order against a scratch copy; commits it only if
    /// all of it applies. The caller has validated the part (`validationError`). Refusals are decided first, for
    /// the whole part (`refusal(of:creation:)`): a part is refused or not whatever else has arrived, and only a
    /// part that is not refused may wait.
    /// With `values` false, field operations are decided but not applied (no decision depends on a field's
    /// value): the outcome is the same, and the state gets the part's ownership operations only.
    static func applyPart(_ part: Batch, to state: inout ObjectState, values: Bool = true) -> PartOutcome {
        if let error = refusal(of: part, creation: state.creation) { return .reject(error) }
        var scratch = state
        var total = ObjectState.Effect()
        // No operation is refused now (the scan above followed the part's own create), so each applies or waits.
        for operation in part.operations {
            if let reason = scratch.waitReason(operation, author: part.author) { return .wait(reason) }
            guard values || operation.isOwnerOperation else { continue }
            let effect = scratch.apply(operation, author: part.author)
            total.changed = total.changed || effect.changed
            total.removal = total.removal || effect.removal
        }
        state = scratch
        return .apply(total)
    }

    /// Recomputes an object from every part ever received for it (applied or waiting), as if they had all
    /// arrived at once: first the parts that change ownership-level state (they depend only on the create),
    /// then every other part, checked against the complete membership history. Returns the state and, for
    /// each part, whether it applies (`nil`) or why it waits. Refused parts are never logged, so none is here.
    public static func rebuild(_ object: ObjectID, from parts: [Batch]) -> (state: ObjectState, waiting: [String?]) {
        var state = ObjectState(id: object)
        var waiting = [String?](repeating: "not yet examined", count: parts.count)
        // Logged parts passed validation on arrival; checking again keeps rebuild safe on its own.
        let invalid = parts.map { $0.validationError() ?? Merge.mixingError($0) }
        let ownership = Set(
            parts.indices.filter { invalid[$0] == nil && parts[$0].operations.contains(where: \.isOwnerOperation) }
        )
        for index in parts.indices { if let error = invalid[index] { waiting[index] = error.message } }
        var progress = true
        while progress {
            progress = false
            for index in ownership.sorted() where waiting[index] != nil {
                switch applyPart(parts[index], to: &state) {
                case .apply:
                    waiting[index] = nil
                    progress = true
                case .wait(let reason): waiting[index] = reason
                case .reject(let error): waiting[index] = error.message
                }
            }
        }
        for index in parts.indices where !ownership.contains(index) && invalid[index] == nil {
            switch applyPart(parts[index], to: &state) {
            case .apply: waiting[index] = nil
            case .wait(let reason): waiting[index] = reason
            case .reject(let error): waiting[index] = error.message
            }
        }
        return (state, waiting)
    }
}
