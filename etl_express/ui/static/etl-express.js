// placeholder replaced below
globalThis["ETL-Express"] = () => globalThis.React.createElement("div", null, "ETL-Express");
