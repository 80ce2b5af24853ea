/// The object kinds this build knows (`Specs/domain.md` documents each).
public enum Catalog {
    static let crmFields = [
        FieldSpec("notes", .text, .private, "internal notes"),
        FieldSpec("crm_id", .text, .private, "this company's CRM record id (the key of CSV upserts)"),
    ]

    /// A joint sales opportunity or referral, co-sold by several companies.
    public static let opportunity = ObjectKind(
        name: "opportunity",
        summary: "a joint sales opportunity or referral",
        fields: [
            FieldSpec("title", .text, .joint, "the deal's name"),
            FieldSpec("account", .text, .joint, "the customer account"),
            FieldSpec("type", .choice(["net-new", "renewal", "expansion"]), .joint, "net new, renewal or expansion"),
            FieldSpec("stage", .choice(opportunityWorkflow.states), .joint, "the sales stage (see the workflow)"),
            FieldSpec("close_date", .date, .joint, "the target close date"),
            FieldSpec("next_steps", .text, .joint, "the agreed next steps (`entente history` keeps every version)"),
            FieldSpec("use_case", .text, .joint, "the customer need or use case"),
            FieldSpec("delivery_models", .set, .joint, "how the solution is delivered (saas, marketplace, ...)"),
            FieldSpec("originating_company", .company, .joint, "the company that sourced the deal"),
            FieldSpec("closed_lost_reason", .text, .joint, "why the deal was lost (required for closed-lost)"),
            FieldSpec("on_hold", .boolean, .joint, "the deal is paused"),
            FieldSpec("region", .text, .joint, "the sales region (EMEA, NA, APAC, ...)"),
            FieldSpec("solution", .text, .joint, "the joint solution sold"),
            FieldSpec("engaged_date", .date, .joint, "when the partners engaged (start of the sales cycle)"),
            FieldSpec("lead", .reference(kind: "lead"), .joint, "the lead this deal was converted from"),
            FieldSpec("amount", .money, .private, "this company's deal value"),
            FieldSpec("probability", .integer(0...100), .private, "this company's win probability, percent"),
            FieldSpec(
                "forecast_category",
                .choice(["pipeline", "best-case", "commit", "omitted", "closed"]),
                .private,
                "this company's forecast category"
            ),
            FieldSpec("crm_stage", .text, .private, "the stage as this company's CRM names it"),
        ] + crmFields,
        titleField: "title",
        workflow: opportunityWorkflow
    )

    static let opportunityWorkflow: Workflow = {
        let open = ["prospect", "qualified", "technical-validation", "business-validation", "committed"]
        let all = open + ["closed-won", "closed-lost"]
        return Workflow(
            states: all,
            terminal: ["closed-won", "closed-lost"],
            moves: Dictionary(uniqueKeysWithValues: open.map { state in (state, all.filter { $0 != state }) }),
            reopen: ["closed-won": open, "closed-lost": open],
            requires: ["closed-lost": ["closed_lost_reason"]]
        )
    }()

    /// A lead: a prospect not yet in the pipeline.
    public static let lead = ObjectKind(
        name: "lead",
        summary: "a lead, before it becomes an opportunity",
        fields: [
            FieldSpec("customer", .text, .joint, "the prospective customer"),
            FieldSpec("contact", .text, .joint, "the customer contact"),
            FieldSpec("source", .text, .joint, "where the lead came from (event, referral, web, ...)"),
            FieldSpec("qualification", .text, .joint, "what is known of need, budget and timing"),
            FieldSpec("stage", .choice(leadWorkflow.states), .joint, "the lead's state (see the workflow)"),
            FieldSpec("region", .text, .joint, "the sales region"),
            FieldSpec("converted_opportunity", .reference(kind: "opportunity"), .joint, "the opportunity it became"),
            FieldSpec("lead_notes", .text, .shared, "this company's notes for its partners"),
        ] + crmFields,
        titleField: "customer",
        workflow: leadWorkflow
    )

    static let leadWorkflow = Workflow(
        states: ["new", "working", "qualified", "converted", "disqualified"],
        terminal: ["converted", "disqualified"],
        moves: [
            "new": ["working", "disqualified"],
            "working": ["qualified", "disqualified"],
            "qualified": ["converted", "disqualified"],
        ],
        reopen: ["disqualified": ["working"]],
        reservedStates: ["converted": "entente convert LEAD"]
    )

    static func plan(_ name: String, _ summary: String) -> ObjectKind {
        ObjectKind(
            name: name,
            summary: summary,
            fields: [
                FieldSpec("name", .text, .joint, "the plan's name"),
                FieldSpec("period", .text, .joint, "the period it covers (FY2027, 2027-H1, ...)"),
                FieldSpec("target_accounts", .set, .joint, "the accounts the partners go after together"),
                FieldSpec("pipeline_goal", .money, .joint, "the joint pipeline goal"),
                FieldSpec("revenue_goal", .money, .joint, "the joint revenue goal"),
                FieldSpec("initiatives", .text, .joint, "the joint initiatives"),
                FieldSpec("stage", .choice(planWorkflow.states), .joint, "the plan's state"),
            ] + crmFields,
            titleField: "name",
            workflow: planWorkflow
        )
    }

    static let planWorkflow = Workflow(
        states: ["in-planning", "in-execution", "closed"],
        terminal: ["closed"],
        moves: ["in-planning": ["in-execution"], "in-execution": ["closed"]],
        reopen: ["closed": ["in-execution"]]
    )

    /// A joint account plan.
    public static let accountPlan = plan("account-plan", "a joint plan for named accounts")
    /// A joint sales plan.
    public static let salesPlan = plan("sales-plan", "a joint sales plan for a period")

    /// A solution the partners build together.
    public static let solution = ObjectKind(
        name: "solution",
        summary: "a joint solution the partners co-build",
        fields: [
            FieldSpec("name", .text, .joint, "the solution's name"),
            FieldSpec("description", .text, .joint, "what it does"),
            FieldSpec("partners", .set, .joint, "the partners building it"),
            FieldSpec("offering_ids", .set, .joint, "the product or offering ids it combines"),
            FieldSpec("marketplace_listings", .set, .joint, "its marketplace listings"),
            FieldSpec("stage", .choice(solutionWorkflow.states), .joint, "the co-build state"),
        ] + crmFields,
        titleField: "name",
        workflow: solutionWorkflow
    )

    static let solutionWorkflow = Workflow(
        states: [
            "business-review", "approval", "partner-approval", "execution", "completion", "declined", "canceled",
        ],
        terminal: ["completion", "declined", "canceled"],
        moves: [
            "business-review": ["approval", "declined", "canceled"],
            "approval": ["partner-approval", "declined", "canceled"],
            "partner-approval": ["execution", "declined", "canceled"],
            "execution": ["completion", "canceled"],
        ]
    )

    /// A marketing-fund (MDF) request.
    public static let fundRequest = ObjectKind(
        name: "fund-request",
        summary: "a marketing development fund request",
        fields: [
            FieldSpec("title", .text, .joint, "the request's name"),
            FieldSpec("activity", .text, .joint, "the marketing activity funded"),
            FieldSpec("requested_amount", .money, .joint, "the amount requested"),
            FieldSpec("approved_amount", .money, .joint, "the amount approved (required to approve)"),
            FieldSpec("start_date", .date, .joint, "when the activity starts"),
            FieldSpec("end_date", .date, .joint, "when it ends"),
            FieldSpec("opportunities", .set, .joint, "ids of the opportunities it supports"),
            FieldSpec("stage", .choice(fundRequestWorkflow.states), .joint, "the request's state"),
        ] + crmFields,
        titleField: "title",
        workflow: fundRequestWorkflow
    )

    static let fundRequestWorkflow = Workflow(
        states: [
            "draft", "submitted", "in-review", "approved", "rejected", "in-execution", "claim-open", "completed",
            "canceled", "expired",
        ],
        terminal: ["completed", "canceled", "expired"],
        moves: [
            "draft": ["submitted", "canceled"],
            "submitted": ["in-review", "canceled"],
            "in-review": ["approved", "rejected", "canceled"],
            "rejected": ["draft", "canceled"],
            "approved": ["in-execution", "canceled", "expired"],
            "in-execution": ["claim-open", "canceled", "expired"],
            "claim-open": ["completed", "canceled", "expired"],
        ],
        requires: ["approved": ["approved_amount"]]
    )

    /// A claim against an approved fund request (proof of performance, reimbursement).
    public static let claim = ObjectKind(
        name: "claim",
        summary: "a claim for reimbursement against an approved fund request",
        fields: [
            FieldSpec("title", .text, .joint, "the claim's name"),
            FieldSpec("fund_request", .reference(kind: "fund-request"), .joint, "the fund request it claims against"),
            FieldSpec("amount", .money, .joint, "the amount claimed"),
            FieldSpec("proof", .text, .joint, "the proof of performance (invoice, attendee list, ...)"),
            FieldSpec("stage", .choice(claimWorkflow.states), .joint, "the claim's state"),
        ] + crmFields,
        titleField: "title",
        workflow: claimWorkflow
    )

    static let claimWorkflow = Workflow(
        states: ["draft", "submitted", "approved", "rejected", "paid"],
        terminal: ["rejected", "paid"],
        moves: ["draft": ["submitted"], "submitted": ["approved", "rejected"], "approved": ["paid"]],
        requires: ["submitted": ["amount", "fund_request"]]
    )

    /// A partner program.
    public static let program = ObjectKind(
        name: "program",
        summary: "a partner program with tiers and enrolled companies",
        fields: [
            FieldSpec("name", .text, .joint, "the program's name"),
            FieldSpec("manager", .text, .joint, "who runs it"),
            FieldSpec("tiers", .set, .joint, "its tiers (registered, select, premier, ...)"),
            FieldSpec("enrolled_companies", .set, .joint, "the companies enrolled"),
        ] + crmFields,
        titleField: "name",
        workflow: nil
    )

    /// Every known kind.
    public static let all: [ObjectKind] = [
        opportunity, lead, accountPlan, salesPlan, solution, fundRequest, claim, program,
    ]

    /// The kind named `name`, if known.
    public static func kind(named name: String) -> ObjectKind? {
        all.first { $0.name == name }
    }
}
