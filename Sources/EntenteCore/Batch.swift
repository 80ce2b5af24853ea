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

    enum PartOutcome {
        case apply(ObjectState.Effect)
        case wait(String)
        case reject(AuthorityError)
    }

    /// Checks the state-dependent rules and applies one part in order against a scratch copy; commits it only if
    /// all of it applies. The caller has validated the part (`validationError`).
    static func applyPart(_ part: Batch, to state: inout ObjectState) -> PartOutcome {
        var scratch = state
        var total = ObjectState.Effect()
        for operation in part.operations {
            switch scratch.decideValidated(operation, author: part.author) {
            case .wait(let reason): return .wait(reason)
            case .reject(let error): return .reject(error)
            case .apply:
                let effect = scratch.apply(operation, author: part.author)
                total.changed = total.changed || effect.changed
                total.removal = total.removal || effect.removal
            }
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
