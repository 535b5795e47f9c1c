//! Front-end entry: mounts the app with i18n (Chinese by default).

import { createApp } from "vue";
import "element-plus/dist/index.css";
import "./styles.css";
import "./styles/panel.css";
import "./styles/precheck.css";
import "./styles/screens.css";
import App from "./App.vue";
import { createAppI18n } from "./i18n";

createApp(App).use(createAppI18n()).mount("#app");
