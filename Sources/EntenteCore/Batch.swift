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
}

/// The result of merging one batch.
public enum BatchOutcome: Hashable, Sendable {
    /// Every operation was applied; the listed objects changed.
    case applied(changed: Set<ObjectID>)
    /// Nothing was applied yet: the batch waits for an operation it depends on.
    case wait(String)
    /// Nothing was applied: an operation is refused for good.
    case reject(AuthorityError)
}

/// Merges batches all-or-nothing into a set of object states. Pure and deterministic.
public enum Merge {
    /// Applies every operation of `batch` to `states`, or none of them.
    ///
    /// Operations are checked in order against the state as it would be after the earlier ones, so a
    /// batch may create an object and write it. If any operation must wait or is refused, `states` is
    /// left unchanged. Objects missing from `states` are treated as not yet known.
    public static func apply(_ batch: Batch, to states: inout [ObjectID: ObjectState]) -> BatchOutcome {
        for operation in batch.operations {
            if let error = operation.validate(author: batch.author) { return .reject(error) }
        }
        var scratch: [ObjectID: ObjectState] = [:]
        var changed = Set<ObjectID>()
        for operation in batch.operations {
            var state = scratch[operation.object] ?? states[operation.object] ?? ObjectState(id: operation.object)
            switch state.decide(operation, author: batch.author) {
            case .wait(let reason): return .wait(reason)
            case .reject(let error): return .reject(error)
            case .apply:
                if state.apply(operation, author: batch.author) { changed.insert(operation.object) }
                scratch[operation.object] = state
            }
        }
        for (id, state) in scratch { states[id] = state }
        return .applied(changed: changed)
    }
}
