extension Mapping {
    /// The names of the built-in mappings (each also shipped as `Examples/mappings/NAME.json`).
    public static let builtinNames = ["salesforce-opportunity", "generic-pipeline"]

    /// The built-in mapping named `name`, if any.
    public static func builtin(named name: String) -> Mapping? {
        switch name {
        case "salesforce-opportunity": salesforceOpportunity
        case "generic-pipeline": genericPipeline
        default: nil
        }
    }

    /// A standard Salesforce opportunity report, exported as CSV (US locale: M/D/YYYY dates).
    static let salesforceOpportunity = Mapping(
        name: "salesforce-opportunity",
        summary: "A Salesforce opportunity report exported as CSV (Reports > Export > Details only, .csv, UTF-8).",
        objectType: "opportunity",
        keyColumn: "Opportunity ID",
        emptyCells: "skip",
        dateFormat: "M/D/YYYY",
        columns: [
            Column("Opportunity Name", "title"),
            Column("Account Name", "account"),
            Column(
                "Type",
                "type",
                values: [
                    ValueMapping("New Customer", "net-new"),
                    ValueMapping("New Business", "net-new"),
                    ValueMapping("Renewal", "renewal"),
                    ValueMapping("Existing Customer - Replacement", "renewal"),
                    ValueMapping("Existing Customer - Upgrade", "expansion"),
                    ValueMapping("Existing Business", "expansion"),
                    ValueMapping("Upsell", "expansion"),
                ]
            ),
            Column(
                "Stage",
                "stage",
                values: [
                    ValueMapping("Prospecting", "prospect"),
                    ValueMapping("Qualification", "qualified"),
                    ValueMapping("Needs Analysis", "qualified"),
                    ValueMapping("Value Proposition", "technical-validation"),
                    ValueMapping("Id. Decision Makers", "business-validation"),
                    ValueMapping("Perception Analysis", "business-validation"),
                    ValueMapping("Proposal/Price Quote", "business-validation"),
                    ValueMapping("Negotiation/Review", "committed"),
                    ValueMapping("Closed Won", "closed-won"),
                    ValueMapping("Closed Lost", "closed-lost"),
                ]
            ),
            Column("Stage", "crm_stage"),
            Column("Amount", "amount", currency: "USD", currencyColumn: "Opportunity Currency"),
            Column("Probability (%)", "probability"),
            Column("Close Date", "close_date"),
            Column("Next Step", "next_steps"),
            Column(
                "Forecast Category",
                "forecast_category",
                values: [
                    ValueMapping("Pipeline", "pipeline"),
                    ValueMapping("Best Case", "best-case"),
                    ValueMapping("Commit", "commit"),
                    ValueMapping("Omitted", "omitted"),
                    ValueMapping("Closed", "closed"),
                ]
            ),
            Column("Region", "region"),
            Column("Loss Reason", "closed_lost_reason"),
            Column(
                "Delivery Model",
                "delivery_models",
                values: [
                    ValueMapping("SaaS", "saas"),
                    ValueMapping("Marketplace", "marketplace"),
                    ValueMapping("On-Premises", "on-premises"),
                    ValueMapping("Professional Services", "services"),
                ],
                setSeparator: ";"
            ),
            Column("Lead Source", "lead_source", type: "text"),
            Column("Billing Country", "billing_country", type: "text"),
            Column("Opportunity Owner", "crm_owner", type: "text"),
            Column("Created Date", "crm_created_date", type: "date"),
            Column("Description", "notes"),
        ]
    )

    /// A simple pipeline sheet with lower-case columns, ISO dates and a currency column.
    static let genericPipeline = Mapping(
        name: "generic-pipeline",
        summary: "A simple pipeline sheet: lower-case column names, ISO dates, stages as Entente names them.",
        objectType: "opportunity",
        keyColumn: "id",
        emptyCells: "skip",
        dateFormat: "YYYY-MM-DD",
        columns: [
            Column("name", "title"),
            Column("account", "account"),
            Column("type", "type"),
            Column("stage", "stage"),
            Column("amount", "amount", currencyColumn: "currency"),
            Column("probability", "probability"),
            Column("close_date", "close_date"),
            Column("next_steps", "next_steps"),
            Column("region", "region"),
            Column("solution", "solution"),
            Column("delivery_models", "delivery_models", setSeparator: ";"),
            Column("sourced_by", "originating_company"),
            Column("on_hold", "on_hold"),
            Column("notes", "notes"),
        ]
    )
}
