/* placeholder /api/search /assets/app.js /assets/style.css */
